"""Load benchmarks in the results database (the tables of migration `002_load`).

`load_benches` (one row per `workbench bench` invocation), `load_points` (one per stack and
load point, with its summary), `load_requests` (one per request, raw timestamps in
`record_json`) and `load_samples` (resources on the same timeline). Requests are committed
per point and samples in small batches, so an interrupted benchmark keeps what it measured.

It shares the `Store`'s connection, file and migrations: only `store/` speaks SQL. A point's
summary is the load bench's own model (`load.metrics.PointSummary`); the store keeps it as
JSON and hands it back as a dict in the current format, so the store never imports the
load bench.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from ulid import ULID

from workbench.records.responses import LoadRequestRecord, PointSpec
from workbench.store.db import Store, utc_now

#: Latency summaries inside a point's summary JSON (mean and percentiles of one metric).
_SUMMARY_DISTRIBUTIONS = ("ttft", "tpot", "itl", "e2e", "send_lag")
_SUMMARY_STATS = ("mean", "p50", "p90", "p95", "p99")


def _num(x: float) -> float | None:
    # SQLite and JSON have no infinity: store "unbounded" as NULL.
    return None if math.isinf(x) else x


def upgrade_summary(data: dict[str, Any]) -> dict[str, Any]:
    """A stored point summary in the current format.

    Summaries stored before `latency_unit` existed hold their latencies and SLOs in
    milliseconds (`slo_ms`); every latency is now in seconds, so they are converted here,
    on read, and the stored rows stay as they were written.
    """
    if "latency_unit" in data:
        return data
    out = dict(data)
    for key in _SUMMARY_DISTRIBUTIONS:
        dist = out.get(key)
        if isinstance(dist, dict):
            out[key] = {k: (v / 1000.0 if k in _SUMMARY_STATS and isinstance(v, int | float)
                            else v) for k, v in dist.items()}
    out["slo_s"] = {k: v / 1000.0 for k, v in (out.pop("slo_ms", None) or {}).items()}
    out["latency_unit"] = "s"
    return out


class PointSummaryLike(Protocol):
    """What the store needs of a point's summary (`load.metrics.PointSummary`)."""

    @property
    def duration_s(self) -> float:
        """How long the point ran."""
        ...

    def model_dump_json(self) -> str:
        """The summary as JSON (pydantic)."""
        ...


@dataclass(frozen=True)
class StoredPoint:
    """One stored load point of one stack."""

    stack: str
    position: int
    summary: dict[str, Any]
    """The point's summary (`load.metrics.PointSummary` fields), latencies in seconds."""


class LoadBenchStore:
    """Typed access to the load tables of a `Store` (same file, same connection)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    def close(self) -> None:
        """Close the underlying store."""
        self.store.close()

    def create_bench(self, *, target: str, stacks: list[str], config: dict[str, Any]) -> str:
        """Record a new benchmark; returns its ULID."""
        bench_id = str(ULID())
        with self.store._write() as c:
            c.execute(
                "INSERT INTO load_benches (id, created_utc, status, target, stacks_json,"
                " config_json) VALUES (?, ?, 'running', ?, ?, ?)",
                (bench_id, utc_now(), target, json.dumps(stacks), json.dumps(config)),
            )
        return bench_id

    def finish_bench(self, bench_id: str, status: str, extra: dict[str, Any] | None = None) -> None:
        """Mark a benchmark completed / cancelled / failed, with optional results (JSON)."""
        with self.store._write() as c:
            c.execute(
                "UPDATE load_benches SET status = ?, finished_utc = ?, result_json = ?"
                " WHERE id = ?",
                (status, utc_now(), json.dumps(extra or {}), bench_id),
            )

    def add_point(
        self, bench_id: str, stack: str, position: int, spec: PointSpec,
        summary: PointSummaryLike, records: list[LoadRequestRecord], t0: float,
    ) -> None:
        """Store a point's summary and every request (timestamps relative to t0 in columns)."""
        with self.store._write() as c:
            c.execute(
                "INSERT OR REPLACE INTO load_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (bench_id, stack, position, spec.label, spec.concurrency, _num(spec.rate),
                 _num(spec.burstiness), spec.requests, utc_now(),
                 summary.duration_s, summary.model_dump_json()),
            )
            c.executemany(
                "INSERT OR REPLACE INTO load_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(bench_id, stack, position, r.index, r.status,
                  r.timing.request_start - t0, r.send_lag_s * 1000.0, r.prompt_tokens,
                  r.completion_tokens, None if r.correct is None else int(r.correct),
                  r.error, r.model_dump_json()) for r in records],
            )

    def add_samples(self, bench_id: str, stack: str, rows: list[tuple[float, str, dict[str, Any]]],
                    t0: float) -> None:
        """Store resource samples (t relative to t0, the bench's start on perf_counter)."""
        if not rows:
            return
        with self.store._write() as c:
            c.executemany(
                "INSERT INTO load_samples (bench_id, stack, t_s, kind, data_json)"
                " VALUES (?, ?, ?, ?, ?)",
                [(bench_id, stack, t - t0, kind, json.dumps(data)) for t, kind, data in rows],
            )

    # --- reading ----------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """A bench id from an id, a unique prefix, or `latest`; KeyError naming the known ones."""
        if ref == "latest":
            row = self.conn.execute(
                "SELECT id FROM load_benches ORDER BY created_utc DESC, id DESC LIMIT 1").fetchone()
        else:
            rows = self.conn.execute(
                "SELECT id FROM load_benches WHERE id LIKE ? LIMIT 2", (ref + "%",)).fetchall()
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            known = [b["id"] for b in self.list_benches(limit=5)]
            raise KeyError(f"no load benchmark {ref!r} in {self.store.path} "
                           f"(latest: {', '.join(known) or '-'})")
        return str(row[0])

    def list_benches(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first: id, created_utc, status, target, stacks."""
        rows = self.conn.execute(
            "SELECT id, created_utc, status, target, stacks_json FROM load_benches"
            " ORDER BY created_utc DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [{**dict(r), "stacks": json.loads(r["stacks_json"])} for r in rows]

    def bench(self, bench_id: str) -> dict[str, Any]:
        """A benchmark's row with its config and result parsed."""
        row = self.conn.execute("SELECT * FROM load_benches WHERE id = ?", (bench_id,)).fetchone()
        if row is None:
            raise KeyError(f"no load benchmark {bench_id!r}")
        out = dict(row)
        out["stacks"] = json.loads(out.pop("stacks_json"))
        out["config"] = json.loads(out.pop("config_json"))
        out["result"] = json.loads(out.pop("result_json") or "{}")
        return out

    def bench_for_run(self, run_id: str) -> str | None:
        """The newest load benchmark a matrix run's load pass stored (tagged with the run's
        id in its config), or None."""
        row = self.conn.execute(
            # Benches of `workbench bench` may hold Infinity (not JSON to SQLite): skipped.
            "SELECT id FROM load_benches WHERE json_valid(config_json)"
            " AND json_extract(config_json, '$.run_id') = ?"
            " ORDER BY created_utc DESC, id DESC LIMIT 1", (run_id,)).fetchone()
        return None if row is None else str(row[0])

    def points(self, bench_id: str) -> list[StoredPoint]:
        """Every stored point, by stack then position, summaries in the current format."""
        rows = self.conn.execute(
            "SELECT stack, position, summary_json FROM load_points WHERE bench_id = ?"
            " ORDER BY stack, position", (bench_id,)).fetchall()
        # json.loads reads the Infinity that PointSummary writes for an unbounded rate.
        return [StoredPoint(r[0], r[1], upgrade_summary(json.loads(r[2]))) for r in rows]

    def requests(self, bench_id: str, stack: str, position: int) -> list[LoadRequestRecord]:
        """The raw request records of one point."""
        rows = self.conn.execute(
            "SELECT record_json FROM load_requests WHERE bench_id = ? AND stack = ?"
            " AND position = ? ORDER BY idx", (bench_id, stack, position)).fetchall()
        return [LoadRequestRecord.model_validate_json(r[0]) for r in rows]

    def samples(self, bench_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Resource samples (stack, t_s, kind, data) in time order."""
        sql = "SELECT stack, t_s, kind, data_json FROM load_samples WHERE bench_id = ?"
        args: tuple[Any, ...] = (bench_id,)
        if kind is not None:
            sql += " AND kind = ?"
            args += (kind,)
        rows = self.conn.execute(sql + " ORDER BY t_s", args).fetchall()
        return [{"stack": r[0], "t_s": r[1], "kind": r[2], "data": json.loads(r[3])} for r in rows]


__all__ = ["LoadBenchStore", "PointSummaryLike", "StoredPoint", "upgrade_summary"]
