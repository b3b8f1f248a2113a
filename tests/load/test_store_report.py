"""Load results in the store (migration 002_load) and the side-by-side report."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from tests.load.helpers import rec
from workbench.load.metrics import summarize
from workbench.load.records import PointSpec
from workbench.load.report import load_table, render, to_json
from workbench.load.store import LoadStore
from workbench.load.sweep import saturation_of
from workbench.store.db import Store


def test_store_roundtrip_and_report(tmp_path: Path) -> None:
    store = LoadStore(Store(tmp_path / "wb.db"))
    assert "002_load" in store.store.applied_migrations()
    bench = store.create_bench(target="engine", stacks=["a", "b"], config={"x": 1})
    summaries = []
    for pos, c in enumerate((1, 2)):
        spec = PointSpec(requests=2, concurrency=c)
        for stack, slow in (("a", 1.0), ("b", 2.0)):
            recs = [rec(0, 0.0, [0.1 * slow, 0.2 * slow]), rec(1, 0.5, [0.6, 0.7 * slow])]
            s = summarize(spec, recs, duration_s=1.0 * slow / c)
            store.add_point(bench, stack, pos, spec, s, recs, t0=0.0)
            if stack == "a":
                summaries.append(s)
    store.add_samples(bench, "a", [(0.5, "process", {"cpu_percent": 50.0})], t0=0.0)
    store.finish_bench(bench, "completed", {"saturation": {"a": saturation_of(summaries)
                                                                .model_dump()}})
    assert store.resolve("latest") == bench
    assert store.resolve(bench[:12]) == bench
    assert [r.index for r in store.requests(bench, "b", 1)] == [0, 1]
    assert store.samples(bench, "process")[0]["data"] == {"cpu_percent": 50.0}

    table = load_table(store, "latest")
    assert [r.label for r in table.rows] == ["c=1", "c=2"]
    row = table.rows[1]
    assert row.by_stack["a"] is not None and row.by_stack["b"] is not None
    assert row.by_stack["a"].request_throughput == 4.0
    assert row.by_stack["b"].request_throughput == 2.0
    data = json.loads(to_json(table))
    assert data["stacks"] == ["a", "b"] and data["rows"][0]["by_stack"]["a"]["rate"] is None
    out = io.StringIO()
    render(table, Console(file=out, width=250))
    text = out.getvalue()
    assert "Throughput vs load" in text and "TTFT" in text and "vLLM" in text
    assert "a: no saturation found" in text or "a: saturates" in text
