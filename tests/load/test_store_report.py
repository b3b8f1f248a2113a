"""Load results in the store (migration 002_load) and the side-by-side report, on hand-made
points whose saturation is known: stack `a` flattens after c=2, stack `b` keeps rising."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from tests.load.helpers import rec
from workbench.load.metrics import PointSummary, summarize
from workbench.load.report import load_table, render, to_json
from workbench.load.sweep import saturation_of
from workbench.records.responses import LoadRequestRecord, PointSpec
from workbench.store.db import Store
from workbench.store.load_benches import LoadBenchStore

#: stack -> concurrency -> (point duration s, latency scale). Two requests per point, so
#: throughput = 2 / duration: a gives 2, 4, 4.1 req/s (+2.5% from c=2 to c=4 while E2E
#: p50 doubles from 200 to 400 ms: saturated at 2); b gives 1, 2, 4 req/s (still rising).
LEVELS = {
    "a": {1: (1.0, 1.0), 2: (0.5, 1.0), 4: (2 / 4.1, 2.0)},
    "b": {1: (2.0, 1.5), 2: (1.0, 1.5), 4: (0.5, 1.5)},
}


def _records(slow: float) -> list[LoadRequestRecord]:
    # Each request: TTFT 100 ms x slow, E2E 200 ms x slow.
    return [rec(0, 0.0, [0.1 * slow, 0.2 * slow]), rec(1, 0.5, [0.5 + 0.1 * slow,
                                                                 0.5 + 0.2 * slow])]


def _stored_bench(store: LoadBenchStore) -> str:
    bench = store.create_bench(target="engine", stacks=["a", "b"], config={"x": 1})
    summaries: dict[str, list[PointSummary]] = {"a": [], "b": []}
    for pos, c in enumerate((1, 2, 4)):
        spec = PointSpec(requests=2, concurrency=c)
        for stack in ("a", "b"):
            duration, slow = LEVELS[stack][c]
            recs = _records(slow)
            s = summarize(spec, recs, duration_s=duration)
            store.add_point(bench, stack, pos, spec, s, recs, t0=0.0)
            summaries[stack].append(s)
    store.add_samples(bench, "a", [(0.5, "process", {"cpu_percent": 50.0})], t0=0.0)
    store.finish_bench(bench, "completed", {"saturation": {
        stack: saturation_of(sums).model_dump() for stack, sums in summaries.items()}})
    return bench


def test_store_roundtrip(tmp_path: Path) -> None:
    store = LoadBenchStore(Store(tmp_path / "wb.db"))
    assert "002_load" in store.store.applied_migrations()
    bench = _stored_bench(store)
    assert store.resolve("latest") == bench
    assert store.resolve(bench[:12]) == bench
    assert [r.index for r in store.requests(bench, "b", 1)] == [0, 1]
    assert store.samples(bench, "process")[0]["data"] == {"cpu_percent": 50.0}
    with pytest.raises(KeyError, match="no load benchmark 'nope'"):
        store.resolve("nope")


def test_saturation_is_the_one_right_answer(tmp_path: Path) -> None:
    store = LoadBenchStore(Store(tmp_path / "wb.db"))
    table = load_table(store, _stored_bench(store))
    assert table.saturation["a"] == {
        "at": 2.0, "reason": "2 -> 4: throughput +2.5%, latency 200 -> 400 ms"}
    assert table.saturation["b"] == {
        "at": None, "reason": "throughput still rising at 4 (not reached)"}

    out = io.StringIO()
    render(table, Console(file=out, width=250))
    text = out.getvalue()
    assert "a: saturates at 2 (2 -> 4: throughput +2.5%, latency 200 -> 400 ms)" in text
    assert "b: no saturation found (throughput still rising at 4 (not reached))" in text
    assert "a: no saturation" not in text and "b: saturates" not in text


def test_report_numbers(tmp_path: Path) -> None:
    store = LoadBenchStore(Store(tmp_path / "wb.db"))
    table = load_table(store, _stored_bench(store))
    assert [r.label for r in table.rows] == ["c=1", "c=2", "c=4"]
    a, b = table.rows[1].by_stack["a"], table.rows[1].by_stack["b"]
    assert a is not None and b is not None
    assert (a.request_throughput, b.request_throughput) == (4.0, 2.0)
    assert a.e2e is not None and a.e2e.p50 == pytest.approx(0.2)  # stored in seconds
    data = json.loads(to_json(table))
    assert data["stacks"] == ["a", "b"] and data["rows"][0]["by_stack"]["a"]["rate"] is None

    out = io.StringIO()
    render(table, Console(file=out, width=250))
    text = out.getvalue()
    assert "Throughput vs load" in text and "vLLM" in text
    # The terminal shows ms: at c=1, E2E p50/p90/p99 are 200 ms for a and 300 ms for b.
    assert re.search(r"E2E\W+200\W+200\W+200\W+300\W+300\W+300\W", text), text
