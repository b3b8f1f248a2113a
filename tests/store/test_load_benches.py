"""The load bench tables through `LoadBenchStore`: the same file and migrations as runs, and
points stored before latencies moved to seconds still read correctly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.load.helpers import rec
from workbench.load.metrics import PointSummary, summarize
from workbench.load.report import load_table
from workbench.records.responses import PointSpec
from workbench.store.db import Store
from workbench.store.load_benches import LoadBenchStore

#: A point summary exactly as `workbench bench` stored it before `latency_unit` existed:
#: every latency in milliseconds and the SLOs as `slo_ms`.
LEGACY_SUMMARY = {
    "label": "c=2", "concurrency": 2, "rate": float("inf"), "burstiness": 1.0,
    "requests": 2, "completed": 2, "failed": 0, "error_rate": 0.0, "duration_s": 1.0,
    "request_throughput": 2.0, "output_throughput": 4.0, "total_token_throughput": 24.0,
    "ttft": {"n": 2, "mean": 150.0, "p50": 150.0, "p90": 190.0, "p95": 195.0, "p99": 199.0},
    "tpot": {"n": 2, "mean": 100.0, "p50": 100.0, "p90": 100.0, "p95": 100.0, "p99": 100.0},
    "itl": {"n": 2, "mean": 100.0, "p50": 100.0, "p90": 100.0, "p95": 100.0, "p99": 100.0},
    "e2e": {"n": 2, "mean": 250.0, "p50": 250.0, "p90": 290.0, "p95": 295.0, "p99": 299.0},
    "send_lag": {"n": 2, "mean": 0.5, "p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99},
    "slo_ms": {"ttft": 500.0}, "goodput": 2.0, "correct_goodput": None, "accuracy": None,
    "tokens_from": "usage",
    "definitions": "vLLM (vllm bench serve) definitions; client-side, time.perf_counter",
}


def test_shares_the_results_file_and_migrations(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db) as store:
        loads = LoadBenchStore(store)
        bench = loads.create_bench(target="url", stacks=["s"], config={})
        spec = PointSpec(requests=1, concurrency=1)
        recs = [rec(0, 0.0, [0.1, 0.3])]
        loads.add_point(bench, "s", 0, spec, summarize(spec, recs, 1.0, {"e2e": 1.0}), recs, 0.0)
        loads.finish_bench(bench, "completed")
        assert "002_load" in store.applied_migrations()
    with Store(db) as again:  # a new connection to the same file sees the bench
        [point] = LoadBenchStore(again).points(bench)
        summary = PointSummary.model_validate(point.summary)
        assert (point.stack, point.position) == ("s", 0)
        assert summary.e2e is not None and summary.e2e.p50 == pytest.approx(0.3)
        assert summary.slo_s == {"e2e": 1.0} and summary.latency_unit == "s"
        assert LoadBenchStore(again).bench(bench)["status"] == "completed"


def test_points_stored_in_milliseconds_read_in_seconds(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db) as store:
        bench = LoadBenchStore(store).create_bench(target="url", stacks=["old"], config={})
    # Written the way the old code did (its JSON, its columns), not through today's model.
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO load_points VALUES (?, 'old', 0, 'c=2', 2, NULL, 1.0, 2,"
                     " '2026-01-01T00:00:00Z', 1.0, ?)", (bench, json.dumps(LEGACY_SUMMARY)))
    conn.close()
    with Store(db) as store:
        [point] = LoadBenchStore(store).points(bench)
        table = load_table(LoadBenchStore(store), bench)
    s = PointSummary.model_validate(point.summary)
    assert s.ttft is not None and s.e2e is not None and s.send_lag is not None
    assert (s.ttft.mean, s.ttft.p99) == pytest.approx((0.15, 0.199))
    assert (s.e2e.p50, s.e2e.p95) == pytest.approx((0.25, 0.295))
    assert s.send_lag.p99 == pytest.approx(0.00099)
    assert s.ttft.n == 2 and s.slo_s == pytest.approx({"ttft": 0.5})
    assert s.rate == float("inf")  # the Infinity the old model wrote survives
    assert table.rows[0].by_stack["old"] == s
