"""The report reads the typed manifest: the same words from a stored dict and from its
`RunManifest`, `{}` blocks read as not recorded, and model names fall back to the recipe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.records.manifest import RunManifest
from workbench.report.constraints import constraints_from_manifest
from workbench.report.fairness import fairness_warnings, tuning_note
from workbench.report.host import disturbance_warnings, host_line, host_warnings
from workbench.report.tokenizers import model_identities

FIXTURES = Path(__file__).parents[1] / "records" / "fixtures"


def _stored(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_a_stored_manifest_and_its_typed_form_give_the_same_report() -> None:
    for name in ("manifest_v1_full.json", "manifest_v1_matrix_load.json"):
        stored = _stored(name)
        typed = RunManifest.read(stored)
        assert fairness_warnings(typed) == fairness_warnings(stored)
        assert host_warnings(typed) == host_warnings(stored)
        assert host_line(typed) == host_line(stored) is not None
        assert tuning_note(typed) == tuning_note(stored)
        assert model_identities(typed) == model_identities(stored)
        assert constraints_from_manifest(typed) == constraints_from_manifest(stored)
    # What the real matrix run recorded, in words.
    said = [c.text for c in constraints_from_manifest(_stored("manifest_v1_matrix_load.json"))]
    assert said == ["e2e.p50<=10s", "error_rate<=5%", "capacity>=1rps"]
    line = host_line(_stored("manifest_v1_full.json"))
    assert line is not None and line.startswith("Host: AMD EPYC")


def test_empty_blocks_read_as_not_recorded() -> None:
    assert host_line({"hardware": {}, "host_load": {}}) is None
    assert disturbance_warnings({}) == []
    line = host_line({"hardware": {"cpu": "x"}, "host_load": {}})
    assert line is not None and "during the run" not in line
    assert fairness_warnings({})[0].startswith("no run manifest")
    assert fairness_warnings(RunManifest.read({}))[0].startswith("no run manifest")


def test_one_model_name_with_different_weights_is_said_from_the_recipes_names() -> None:
    manifest = {"baseline": "a",
                "stacks": {"a": {"name": "a", "model": {"name": "qwen"}},
                           "b": {"name": "b", "model": {"name": "qwen"}}},
                "models": {"a": {"sha256": "1" * 64}, "b": {"sha256": "2" * 64}}}
    warnings = fairness_warnings(manifest)
    assert any(w.startswith("a and b both serve 'qwen' but different weights") for w in warnings)
