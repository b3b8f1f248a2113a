"""The typed run manifest: stored manifests of every version read, upgraded and written back.

The fixtures are real manifests stored by this workbench before the manifest was typed
(version 1): `manifest_v1_full.json` from a two-stack run with the judge, tuning and the
host's load; `manifest_v1_matrix_load.json` from a matrix run with a load block.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from workbench.records.manifest import ManifestError, RunManifest
from workbench.records.manifest_parts import (
    EngineBuild,
    EngineFacts,
    PrefixCaching,
)
from workbench.records.manifest_upgrade import SCHEMA_VERSION, upgrade

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_a_stored_v1_manifest_reads_by_attribute_and_writes_back_unchanged() -> None:
    stored = _fixture("manifest_v1_full.json")
    m = RunManifest.read(copy.deepcopy(stored), "01M996HPGGWJPT2PKTMB9QKK6Y")
    assert m.schema_version == SCHEMA_VERSION == 2
    assert m.baseline == "llamacpp-cpu"
    assert m.evalset is not None and m.evalset.name == stored["evalset"]["name"]
    assert m.hardware is not None and m.hardware.fingerprint == stored["hardware"]["fingerprint"]
    assert m.hardware.cpu_flags == stored["hardware"]["cpu_flags"]
    assert m.tuning is not None and m.tuning["llamacpp-cpu"].verified is True
    probe = m.tuning["llamacpp-cpu"].probe
    assert probe is not None and probe.candidates[0]["label"] == "llama.cpp defaults"
    assert m.host_load is not None and m.host_load.steal_share == stored["host_load"]["steal_share"]
    assert m.prefix_caching is not None
    said = stored["prefix_caching"]["llamacpp-cpu"]["from"]
    assert m.prefix_caching["llamacpp-cpu"].from_ == said
    assert m.extra == {}
    # Written back: the same JSON, with its version added (exports stay readable).
    assert m.to_json() == {**stored, "schema_version": 2}


def test_the_load_block_of_a_matrix_run_is_typed() -> None:
    stored = _fixture("manifest_v1_matrix_load.json")
    m = RunManifest.read(stored)
    assert m.load is not None and m.load.concurrency == [1, 2, 4, 8]
    assert m.load.slo == ["ttft.p50<=5s", "e2e.p50<=10s"]
    assert m.load.target is not None and m.load.target.rate == 1.0
    assert m.choice is not None and m.choice.max_error_rate == 0.05
    assert m.matrix == "cpu-load"
    assert m.to_json() == {**stored, "schema_version": 2}


def _two_sided() -> dict[str, Any]:
    """A manifest as runs of two stacks (sides A and B) stored it: every per-stack map keyed
    by side letter, no baseline, the eval set per side."""
    return {
        "evalset": {"name": "old-demo", "digest": "seed-11"},
        "evalsets": {"A": "demo-en", "B": "demo-en"},
        "schedule": "interleaved", "concurrency": 1, "timeout_s": 60, "limit": None,
        "stacks": {"A": {"name": "llamacpp-cpu", "engine": "llamacpp"},
                   "B": {"name": "vllm-cpu", "engine": "vllm"}},
        "engine_versions": {"A": "llama.cpp b4000", "B": None},
        "models": {"A": {"registry": "qwen", "file": "q.gguf", "sha256": "ab" * 32},
                   "B": {"registry": None, "file": "Qwen/Qwen2.5", "sha256": None,
                         "note": "known by name only"}},
        "prefix_caching": {"A": {"on": True, "from": "engine default"},
                           "B": {"on": None, "from": "engine default"}},
        "indexes": {"A": "k1", "B": "k1"},
        "resources": {"B": {"cpu_s": 12, "answers": 5, "peak_rss_mb": 900.5}},
        "traffic": [{"stack": "A", "part": "rag", "url": "http://127.0.0.1:8000",
                     "remote": False}],
        "hardware": {"cpu": "AMD EPYC", "cores": 2},
    }


def test_a_two_sided_manifest_is_upgraded_field_by_field() -> None:
    stored = _two_sided()
    before = copy.deepcopy(stored)
    m = RunManifest.read(stored, "01H00000000000000000OLD2ST")
    assert stored == before  # reading never changes what is stored
    names = ["llamacpp-cpu", "vllm-cpu"]
    assert m.baseline == "llamacpp-cpu"  # side A was the baseline
    assert list(m.stacks or {}) == names
    assert m.evalsets == {"llamacpp-cpu": "demo-en", "vllm-cpu": "demo-en"}
    assert m.engine_versions == {"llamacpp-cpu": "llama.cpp b4000", "vllm-cpu": None}
    assert m.models is not None and list(m.models) == names
    assert m.models["llamacpp-cpu"].sha256 == "ab" * 32
    assert m.models["vllm-cpu"].note == "known by name only"
    assert m.prefix_caching is not None and m.prefix_caching["llamacpp-cpu"].on is True
    assert m.indexes == {"llamacpp-cpu": "k1", "vllm-cpu": "k1"}
    assert m.resources is not None and m.resources["vllm-cpu"].cpu_s == 12
    assert m.traffic is not None and m.traffic[0].stack == "llamacpp-cpu"
    assert m.hardware is not None and m.hardware.cores == 2 and m.hardware.fingerprint is None
    # Keys the old run never recorded stay unset, and are not written back.
    assert m.tuning is None and m.served is None and m.host_load is None
    out = m.to_json()
    assert "tuning" not in out and "host_load" not in out
    assert out["timeout_s"] == 60 and isinstance(out["timeout_s"], int)  # whole stays whole
    assert RunManifest.read(out).to_json() == out  # version 2 reads as it is


def test_a_two_sided_run_with_a_side_baseline_keeps_it() -> None:
    stored = {**_two_sided(), "baseline": "B"}
    assert RunManifest.read(stored).baseline == "vllm-cpu"


def test_a_manifest_of_stacks_by_name_is_not_rekeyed() -> None:
    stored = {"baseline": "b", "stacks": {"a": {"name": "a"}, "b": {"name": "b"}},
              "models": {"a": {"sha256": None}, "b": {"sha256": None}}}
    out = upgrade(stored)
    assert out == {**stored, "schema_version": 2}


def test_an_empty_or_missing_manifest_reads_as_empty() -> None:
    assert RunManifest.read(None).to_json() == {"schema_version": 2}
    assert RunManifest.read({}).stacks is None


@pytest.mark.parametrize(("bad", "field"), [
    ({"hardware": {"cores": "many"}}, "hardware.cores"),
    ({"models": {"a": "sha"}}, "models.a"),
    ({"host_load": {"intruders": [{"pid": "x"}]}}, "host_load.intruders.0.pid"),
    ({"traffic": {"stack": "a"}}, "traffic"),
    ({"schema_version": "two"}, "schema_version"),
])
def test_a_malformed_manifest_is_refused_naming_the_run_and_the_field(
        bad: dict[str, Any], field: str) -> None:
    with pytest.raises(ManifestError) as exc:
        RunManifest.read(bad, "01RUNID")
    assert str(exc.value).startswith("run 01RUNID: manifest")
    assert field in str(exc.value)


def test_unknown_keys_of_a_newer_version_are_kept_and_written_back() -> None:
    newer = {"schema_version": 3, "baseline": "a", "gpu_clock": {"a": 1410},
             "hardware": {"cpu": "x", "numa_nodes": 2}}
    m = RunManifest.read(newer)
    assert m.schema_version == 3
    assert m.extra == {"gpu_clock": {"a": 1410}}
    assert m.hardware is not None and m.hardware.model_extra == {"numa_nodes": 2}
    assert m.to_json() == newer


def test_engine_facts_are_recorded_into_their_maps_and_read_back() -> None:
    m = RunManifest.read({})
    facts = EngineFacts(version="llama.cpp b5000",
                        prefix_caching=PrefixCaching.model_validate({"on": True, "from": "recipe"}),
                        build=EngineBuild(flags={"AVX2": True}, source="/props",
                                          missing=["AVX512"]))
    m.record_engine_facts("a", facts)
    m.record_engine_facts("b", EngineFacts(version=None))
    out = m.to_json()
    assert out["engine_versions"] == {"a": "llama.cpp b5000", "b": None}
    assert out["prefix_caching"] == {"a": {"on": True, "from": "recipe"}}
    assert out["engine_builds"] == {"a": {"flags": {"AVX2": True}, "source": "/props",
                                          "missing": ["AVX512"]}}
    assert m.engine_facts("a") == facts
    assert m.engine_facts("b").build is None


def test_engine_metrics_of_a_resumed_run_add_up() -> None:
    m = RunManifest.read({})
    m.record_engine_metrics("a", "http://127.0.0.1:8080/metrics", {"tokens": 10.0}, "n")
    m.record_engine_metrics("a", "http://127.0.0.1:8080/metrics",
                            {"tokens": 5.0, "cached": 2.0}, "n")
    assert m.engine_metrics is not None
    assert m.engine_metrics["a"].counters == {"tokens": 15.0, "cached": 2.0}


def test_a_writer_refuses_a_wrong_type() -> None:
    m = RunManifest.read({})
    with pytest.raises(ValueError, match="indexes"):
        m.record_indexes({"a": 3})  # type: ignore[dict-item]


def test_matrix_rules_go_to_their_fields_and_unknown_ones_to_extra() -> None:
    m = RunManifest.read({})
    m.record_matrix({"matrix": "m", "prices": {"a": {"per_hour": 2}}, "budget": 5})
    assert m.prices is not None and m.prices["a"].per_hour == 2
    assert m.extra == {"budget": 5}
    assert m.to_json() == {"schema_version": 2, "matrix": "m",
                           "prices": {"a": {"per_hour": 2}}, "budget": 5}


def test_recipes_put_the_baseline_first_and_find_a_stack_by_name_or_side() -> None:
    m = RunManifest.read({"baseline": "b", "stacks": {"a": {"name": "a"},
                                                      "b": {"name": "b", "cost": 1}}})
    assert [name for _, name, _ in m.recipes()] == ["b", "a"]
    assert m.recipe_of("b") == {"name": "b", "cost": 1}
    assert m.recipe_of("zzz") == {}
