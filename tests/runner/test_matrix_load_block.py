"""A matrix file's `load:` and `target:` blocks: read strictly, every error naming the file
and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.records.manifest_parts import LoadBlock
from workbench.runner.matrix import load_matrix
from workbench.runner.matrix_load import plan_levels
from workbench.stacks.recipe import RecipeError

BASE = ("name: m\nevalset: demo-en\nstacks: [llamacpp-cpu, vllm-cpu]\n"
        "choice: {slo: ['e2e.p95<=10s'], min: ['f1>=0.1']}\n")


def _write(tmp_path: Path, extra: str, base: str = BASE) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(base + extra, encoding="utf-8")
    return path


def test_concurrency_block_and_target(tmp_path: Path) -> None:
    m = load_matrix(_write(tmp_path, "load: {concurrency: [1, 2, 4, 8]}\ntarget: {rate: 2}\n"))
    assert m.load is not None and m.target is not None
    assert (m.load.mode, m.load.concurrency, m.target.rate) == ("concurrency", [1, 2, 4, 8], 2)
    # The load SLO defaults to the choice's latency SLOs (f1 is not a latency).
    assert m.load_slo() == ["e2e.p95<=10s"]
    extra = m.manifest_extra()["load"]
    assert isinstance(extra, dict) and extra["target"] == {"rate": 2.0, "concurrency": None}
    assert load_matrix(_write(tmp_path, "")).load is None


def test_rates_block_plans_bounded_levels(tmp_path: Path) -> None:
    m = load_matrix(_write(tmp_path, "load: {rates: [0.5, 1, 4], duration_s: 60, "
                                     "max_requests: 100, slo: ['ttft.p95<=2s']}\n"))
    assert m.load is not None and m.load.mode == "rate" and m.load_slo() == ["ttft.p95<=2s"]
    specs = plan_levels(LoadBlock.model_validate(m.manifest_extra()["load"]), 24)
    # rate x duration requests, capped by max_requests; every level bounded in time.
    assert [(s.rate, s.requests) for s in specs] == [(0.5, 30), (1.0, 60), (4.0, 100)]
    assert all(s.max_seconds == 120 and s.concurrency is None for s in specs)
    closed = plan_levels(LoadBlock(concurrency=[1, 16], max_requests=20), 12)
    assert [(s.concurrency, s.requests) for s in closed] == [(1, 12), (16, 20)]


@pytest.mark.parametrize(("extra", "says"), [
    ("load: {concurrency: [1, 0]}\n", "load.concurrency"),
    ("load: {concurrency: [4, 2]}\n", "levels must rise"),
    ("load: {rates: [-1]}\n", "load.rates"),
    ("load: {rates: [1, 1]}\n", "rates must rise"),
    ("load: {concurrency: [1], rates: [1]}\n", "field load: give exactly one"),
    ("load: {}\n", "field load: give exactly one"),
    ("load: {concurrency: [1], duration_s: 30}\n", "load.duration_s"),
    ("load: {concurrency: [1], users: 3}\n", "load.users"),
    ("load: {concurrency: [1], slo: ['f1>=0.2']}\n", "load.slo"),
    ("load: {concurrency: [1], slo: ['e2e.p95<=fast']}\n", "load.slo"),
    ("load: {concurrency: [1], max_requests: 0}\n", "load.max_requests"),
    ("load: {concurrency: [1], min_correct_share: 1.5}\n", "load.min_correct_share"),
    ("target: {rate: 2}\n", "field target: a target load needs a load block"),
    ("load: {concurrency: [1]}\ntarget: {}\n", "field target: give exactly one"),
    ("load: {concurrency: [1]}\ntarget: {rate: 0}\n", "target.rate"),
    ("load: {rates: [1]}\ntarget: {concurrency: 4}\n", "target.concurrency"),
])
def test_bad_load_blocks_name_the_file_and_field(tmp_path: Path, extra: str, says: str) -> None:
    with pytest.raises(RecipeError) as err:
        load_matrix(_write(tmp_path, extra))
    assert str(tmp_path / "m.yaml") in str(err.value) and says in str(err.value)


def test_load_needs_a_latency_slo(tmp_path: Path) -> None:
    base = "name: m\nevalset: demo-en\nstacks: [llamacpp-cpu, vllm-cpu]\n"
    with pytest.raises(RecipeError, match=r"field load\.slo: the load pass needs"):
        load_matrix(_write(tmp_path, "load: {concurrency: [1, 2]}\n", base))
