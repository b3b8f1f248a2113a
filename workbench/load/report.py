"""The load report: throughput and latency percentiles vs load level, stacks side by side.

`load_table(store, bench_id)` returns plain table data (what a Load view in the web UI or
TUI draws); `render(...)` prints it with rich; `to_json(...)` is the machine form.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from workbench.load.metrics import DEFINITIONS, PointSummary
from workbench.scoring.latency import LatencySummary
from workbench.store.load_benches import LoadBenchStore


class LoadRow(BaseModel):
    """One load level, with each stack's summary at that level (None if not measured)."""

    position: int
    label: str
    by_stack: dict[str, PointSummary | None]


class LoadTable(BaseModel):
    """Everything a view needs to draw a load benchmark."""

    bench_id: str
    created_utc: str
    status: str
    target: str
    stacks: list[str]
    rows: list[LoadRow]
    saturation: dict[str, dict[str, Any]] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    definitions: str = DEFINITIONS


def load_table(store: LoadBenchStore, bench_ref: str) -> LoadTable:
    """Table data of a stored benchmark (`latest`, an id, or a unique id prefix)."""
    bench_id = store.resolve(bench_ref)
    bench = store.bench(bench_id)
    stacks: list[str] = bench["stacks"]
    levels: dict[int, LoadRow] = {}
    for point in store.points(bench_id):
        summary = PointSummary.model_validate(point.summary)
        row = levels.setdefault(
            point.position, LoadRow(position=point.position, label=summary.label,
                                    by_stack=dict.fromkeys(stacks)))
        row.by_stack[point.stack] = summary
    return LoadTable(
        bench_id=bench_id, created_utc=bench["created_utc"], status=bench["status"],
        target=bench["target"], stacks=stacks, rows=[levels[k] for k in sorted(levels)],
        saturation=bench["result"].get("saturation", {}), config=bench["config"],
    )


def to_json(table: LoadTable) -> str:
    """The report as JSON (infinite rates are written as null; latencies in seconds)."""
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(table.model_dump(mode="python")), indent=2, ensure_ascii=False)


def _f(x: float | None, fmt: str = ".0f") -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, fmt)


def _ms(seconds: float | None) -> float | None:
    # Summaries are in seconds; the terminal shows milliseconds.
    return None if seconds is None else seconds * 1000.0


def _d(d: LatencySummary | None, key: str) -> str:
    return "-" if d is None else _f(_ms(getattr(d, key)))


#: Percentiles shown in the terminal (mean and p95 are in the JSON form).
SHOWN = ("p50", "p90", "p99")


def _tags(stacks: list[str]) -> dict[str, str]:
    # Column headers say A/B (a legend names them) so two stacks fit an 80-column terminal.
    if len(stacks) == 1:
        return {stacks[0]: ""}  # the title line names the only stack
    return {s: chr(ord("A") + i) if i < 26 else str(i) for i, s in enumerate(stacks)}


def render(table: LoadTable, console: Console | None = None) -> None:
    """Print throughput and latency tables, stacks side by side, and where each saturates."""
    con = console or Console()
    tags = _tags(table.stacks)
    con.print(f"[bold]Load benchmark {table.bench_id}[/] ({table.status}, target "
              f"{table.target}, {table.created_utc})")
    con.print("  ".join(f"[bold]{tags[s] or 'stack'}[/] = {s}" for s in table.stacks))
    con.print(f"[dim]Metrics: {table.definitions}. Latencies in ms.[/]")
    thr = Table(title="Throughput vs load")
    thr.add_column("load")
    for s in table.stacks:
        for col in ("req/s", "out tok/s", "tot tok/s", "goodput", "err"):
            thr.add_column(f"{tags[s]} {col}".strip(), justify="right")
    for row in table.rows:
        cells = [row.label]
        for s in table.stacks:
            p = row.by_stack.get(s)
            if p is None:
                cells += ["-"] * 5
                continue
            cells += [_f(p.request_throughput, ".2f"), _f(p.output_throughput, ".1f"),
                      _f(p.total_token_throughput, ".1f"), _f(p.goodput, ".2f"),
                      f"{p.error_rate:.0%}"]
        thr.add_row(*cells)
    con.print(thr)
    lat = Table(title="Latency percentiles vs load (ms, vLLM definitions)")
    lat.add_column("load")
    lat.add_column("metric")
    for s in table.stacks:
        for col in SHOWN:
            lat.add_column(f"{tags[s]} {col}".strip(), justify="right")
    for row in table.rows:
        for i, metric in enumerate(("ttft", "tpot", "itl", "e2e")):
            cells = [row.label if i == 0 else "", metric.upper()]
            for s in table.stacks:
                p = row.by_stack.get(s)
                d = getattr(p, metric) if p is not None else None
                cells += [_d(d, k) for k in SHOWN]
            lat.add_row(*cells, end_section=i == 3)
    con.print(lat)
    for s in table.stacks:
        sat = table.saturation.get(s)
        if sat:
            at = sat.get("at")
            where = f"saturates at {at:g}" if at is not None else "no saturation found"
            con.print(f"[bold]{s}[/]: {where} ({sat.get('reason', '')})")
        lags = [p.send_lag.p99 for r in table.rows
                if (p := r.by_stack.get(s)) and p.send_lag and p.send_lag.p99 is not None]
        if lags:
            con.print(f"  client send lag p99 (worst point): {max(lags) * 1000.0:.2f} ms")
        acc = [p.accuracy for r in table.rows
               if (p := r.by_stack.get(s)) and p.accuracy is not None]
        if acc:
            con.print(f"  answer accuracy (the scorecard's gold contained): "
                      f"{min(acc):.0%}-{max(acc):.0%}")
