"""The load results on the scorecard: each stack's capacity at the team's load, and the
lines the choice, the gate and the views print from them.

`workbench.report.capacity_choice` computes these from the load pass a matrix file's `load:`
block ran after the quality pass (stored as a load benchmark tagged with the run's id);
this module holds the typed summary and the words. A run without a load block has no
`ScoreCard.load`, and its choice says it was made at concurrency 1.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from workbench.records.manifest import ManifestLike, RunManifest

#: A failed request counts as slower than any SLO: its latency is this many seconds.
MISS_S = 1e9
#: What the choice says when the run had no load block.
AT_CONCURRENCY_1 = ("chosen at concurrency 1: the run had no load block (add `load:` and "
                    "`target:` to the matrix file to choose at the team's load)")


class Estimate(BaseModel):
    """A percentile over a level's requests (failures counted as misses) with its 95% CI."""

    value: float
    low: float
    high: float
    n: int = Field(description="Requests it is over (failures included).")


class SloCheck(BaseModel):
    """One latency SLO at one level, judged on its CI: `holds` when the upper bound meets
    it, `broken` when the lower bound misses it, `unknown` in between."""

    slo: str
    value: Estimate | None
    verdict: Literal["holds", "broken", "unknown"]


class LoadLevel(BaseModel):
    """One stack at one load level."""

    label: str
    concurrency: int | None
    rate: float | None = Field(description="Arrivals per second (None: closed loop).")
    offered_rps: float = Field(description="rate, or requests sent / duration (closed loop).")
    requests: int
    completed: int
    error_rate: float
    duration_s: float
    throughput_rps: float = Field(description="Completed requests per second.")
    output_tok_s: float
    ttft_p50: Estimate | None = None
    ttft_p95: Estimate | None = None
    e2e_p50: Estimate | None = None
    e2e_p95: Estimate | None = None
    goodput_rps: float = Field(description="Answers/s within every SLO.")
    correct_goodput_rps: float = Field(
        description="Answers/s within every SLO AND correct by the scorecard's rule "
        "(`scoring.answer.answer_is_correct`, the gold-contained verdict).")
    accuracy: float | None = Field(description="Correct / graded requests at this level.")
    accuracy_delta: float | None = Field(
        default=None, description="accuracy - the stack's accuracy at its lowest level.")
    slo_checks: list[SloCheck] = Field(default_factory=list)
    holds: bool = Field(description="Every SLO holds on its CI bound, the error rate is "
                        "within the cap and correct goodput reaches the required share.")
    broke: str | None = Field(default=None, description="Why it does not hold.")
    cpu_s: float | None = None
    peak_rss_mb: float | None = None


class StackLoad(BaseModel):
    """One stack's load pass: every level it ran, its capacity and cost there."""

    stack: str
    levels: list[LoadLevel]
    capacity_rps: float | None = Field(
        description="Offered load at the highest level that holds (None: none holds).")
    capacity_level: str | None = None
    correct_goodput_rps: float | None = Field(
        default=None, description="Correct goodput at the capacity level.")
    cost_per_1k_correct: float | None = Field(
        default=None, description="price per hour / 3600 / correct goodput x 1000, at the "
        "capacity level.")
    currency: str = ""
    cpu_s_per_correct: float | None = Field(
        default=None, description="CPU seconds per correct answer at the capacity level.")
    peak_rss_mb: float | None = None
    holds_target: bool | None = Field(
        default=None, description="Holds the target load (None: no target).")
    broke_at: str | None = Field(default=None, description="The first level that broke.")
    stopped: str | None = Field(default=None, description="Why its sweep stopped early.")
    quality_pass_accuracy: float | None = Field(
        default=None, description="Its gold-contained accuracy in the quality pass (one "
        "request at a time), to set beside its accuracy under load.")
    reason: str = Field(default="", description="One line for the choice.")


class LoadRun(BaseModel):
    """The load pass of a run: how it was run, and every stack's result."""

    bench_id: str
    status: str = Field(description="completed | cancelled | failed (partial results kept).")
    mode: Literal["concurrency", "rate"]
    target_rps: float | None = None
    target_concurrency: int | None = None
    slo: list[str]
    max_error_rate: float
    min_correct_share: float | None = Field(
        description="Required correct goodput / offered load; None: 90% of the stack's own "
        "accuracy at its lowest level.")
    stacks: dict[str, StackLoad]
    method: str = ""

    @property
    def target_text(self) -> str:
        """`2 rps` or `concurrency 8`, or "" without a target."""
        if self.target_rps is not None:
            return f"{self.target_rps:g} rps"
        if self.target_concurrency is not None:
            return f"concurrency {self.target_concurrency}"
        return ""


def seconds(x: float | None) -> str:
    """A latency for a reason line: `850 ms`, `12.3 s`, or `failed` for a miss."""
    if x is None or math.isnan(x):
        return "n/a"
    if x >= MISS_S / 2:
        return "failed"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.1f} s"


def estimate_text(e: Estimate | None) -> str:
    """`9.2 s [7.9 s, 11.3 s]`; an interval end beyond every request is `∞` (too few
    requests to bound it, or misses), a percentile that is itself a miss `failed`."""
    if e is None:
        return "n/a"

    def end(x: float) -> str:
        return "∞" if x >= MISS_S / 2 else seconds(x)

    return f"{seconds(e.value)} [{end(e.low)}, {end(e.high)}]"


def load_note(load: LoadRun | None) -> str:
    """One line on the load the choice was made at."""
    if load is None:
        return AT_CONCURRENCY_1
    target = f", target {load.target_text}" if load.target_text else ""
    partial = "" if load.status == "completed" else f" ({load.status}: partial results)"
    return (f"capacity measured under load ({load.mode} levels{target}; SLO "
            f"{', '.join(load.slo)}, judged on CI bounds, failures counted as misses)"
            f"{partial}")


#: Constraint metrics read from the load pass (`capacity>=2rps`, `capacity_concurrency>=8`,
#: `correct_goodput>=1`, `cost_per_correct<=0.002`).
LOAD_METRICS = ("capacity", "capacity_concurrency", "correct_goodput", "cost_per_correct")


def load_measure(metric: str, s: StackLoad | None) -> tuple[float | None, str]:
    """A stack's value of a load metric (already judged on CI bounds: a point) and how to
    show it; None when the run had no load pass or the metric has no value."""
    if s is None:
        return None, f"{metric}: the run had no load pass (add a load block to the matrix file)"
    why = s.reason.removeprefix(f"{s.stack}: ")
    if metric == "capacity":
        return s.capacity_rps or 0.0, why
    if metric == "capacity_concurrency":
        lv = next((x for x in s.levels if x.label == s.capacity_level), None)
        return float(lv.concurrency or 0) if lv is not None else 0.0, why
    if metric == "correct_goodput":
        v = s.correct_goodput_rps
        return v, "holds no level" if v is None else f"correct goodput {v:.2f}/s at capacity"
    if s.cost_per_1k_correct is not None:
        v = s.cost_per_1k_correct / 1000.0
        return v, f"{v:.5f} {s.currency} per correct answer at capacity"
    if s.cpu_s_per_correct is not None:
        return s.cpu_s_per_correct, f"{s.cpu_s_per_correct:.2f} CPU-s per correct answer"
    return None, "cost_per_correct: no price and no CPU time at capacity"


def target_constraint(manifest: ManifestLike) -> str | None:
    """The constraint a matrix's `target:` sets (`capacity>=2rps`), None without one."""
    load = RunManifest.read(manifest).load
    target = load.target if load is not None else None
    if target is None:
        return None
    if target.rate is not None:
        return f"capacity>={float(target.rate):g}rps"
    if target.concurrency is not None:
        return f"capacity_concurrency>={int(target.concurrency)}"
    return None


def load_failures(load: LoadRun | None, stack: str) -> list[str]:
    """Why a stack is infeasible at the target load (empty: it holds it, or no target)."""
    if load is None or not load.target_text:
        return []
    s = load.stacks.get(stack)
    if s is None:
        return [f"no load result at the target {load.target_text} (load pass {load.status})"]
    return [] if s.holds_target else [s.reason]


#: Columns of the per-level table (CLI and Markdown).
LEVEL_HEADER = ("stack", "level", "offered/s", "req/s", "tok/s", "p95 TTFT [95% CI]",
                "p95 E2E [95% CI]", "errors", "correct goodput/s", "accuracy (vs lowest)",
                "holds")
#: Columns of the capacity table.
CAPACITY_HEADER = ("stack", "capacity", "at", "correct goodput/s", "cost per 1k correct",
                   "accuracy: quality pass -> capacity", "target")


def level_rows(load: LoadRun) -> list[tuple[str, ...]]:
    """One row per stack and level, in run order."""
    rows: list[tuple[str, ...]] = []
    for name, s in load.stacks.items():
        for i, lv in enumerate(s.levels):
            acc = "-" if lv.accuracy is None else f"{lv.accuracy:.0%}"
            if lv.accuracy_delta is not None and i > 0:
                acc += f" ({lv.accuracy_delta * 100:+.0f} pts)"
            rows.append((name if i == 0 else "", lv.label, f"{lv.offered_rps:.2f}",
                         f"{lv.throughput_rps:.2f}", f"{lv.output_tok_s:.1f}",
                         estimate_text(lv.ttft_p95), estimate_text(lv.e2e_p95),
                         f"{lv.requests - lv.completed}/{lv.requests}",
                         f"{lv.correct_goodput_rps:.2f}", acc,
                         "yes" if lv.holds else "no"))
    return rows


def cost_text(s: StackLoad) -> str:
    """Cost per 1,000 correct answers at capacity, else CPU-seconds per correct answer."""
    if s.cost_per_1k_correct is not None:
        return f"{s.cost_per_1k_correct:.2f} {s.currency}"
    if s.cpu_s_per_correct is not None:
        return f"{s.cpu_s_per_correct * 1000:.0f} CPU-s"
    return "-"


def capacity_rows(load: LoadRun) -> list[tuple[str, ...]]:
    """One row per stack: capacity, where, correct goodput and cost there, target."""
    rows: list[tuple[str, ...]] = []
    for name, s in load.stacks.items():
        cap = "none" if s.capacity_rps is None else f"{s.capacity_rps:.2f} rps"
        target = "-" if s.holds_target is None else (
            "holds" if s.holds_target else f"broke at {s.broke_at or 'top level'}")
        cg = "-" if s.correct_goodput_rps is None else f"{s.correct_goodput_rps:.2f}"
        at = next((lv for lv in s.levels if lv.label == s.capacity_level), None)
        acc = " -> ".join("-" if a is None else f"{a:.0%}" for a in (
            s.quality_pass_accuracy, at.accuracy if at is not None else None))
        rows.append((name, cap, s.capacity_level or "-", cg, cost_text(s), acc, target))
    return rows


def load_lines(load: LoadRun | None) -> list[str]:
    """The note on the load the choice was made at, then one reason line per stack."""
    if load is None:
        return [AT_CONCURRENCY_1]
    return [load_note(load), *[s.reason for s in load.stacks.values()],
            *[f"{s.stack}: {s.stopped}" for s in load.stacks.values()
              if s.stopped and s.stopped not in s.reason]]


def load_markdown(load: LoadRun | None) -> list[str]:
    """The load section of the Markdown report."""
    if load is None:
        return [f"_{AT_CONCURRENCY_1}_", ""]

    def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
        esc = [tuple(c.replace("|", "\\|") for c in r) for r in [header, *rows]]
        return ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(header),
                *["| " + " | ".join(r) + " |" for r in esc[1:]], ""]

    return ["## Capacity at load", "", *[f"- {line}" for line in load_lines(load)], "",
            *table(CAPACITY_HEADER, capacity_rows(load)),
            "### Per level", "", *table(LEVEL_HEADER, level_rows(load)),
            f"_{load.method}_", ""]


def load_rich(load: LoadRun | None) -> list[RenderableType]:
    """The load section for the terminal (rich renderables)."""
    if load is None:
        return [Text(AT_CONCURRENCY_1, style="dim")]
    cap = Table(title="Capacity at load (SLOs on CI bounds, failures as misses, correct "
                "answers only)", title_justify="left", expand=False)
    for i, h in enumerate(CAPACITY_HEADER):
        cap.add_column(h, justify="left" if i in (0, 2, 6) else "right", no_wrap=i == 0)
    for row in capacity_rows(load):
        cap.add_row(*row)
    lv = Table(title="Per load level", title_justify="left", expand=False)
    for i, h in enumerate(LEVEL_HEADER):
        lv.add_column(h, justify="left" if i in (0, 1, 10) else "right", no_wrap=i == 0)
    for row in level_rows(load):
        lv.add_row(*row, style=None if row[-1] == "yes" else "red")
    return [cap, lv, Text("\n".join(load_lines(load)))]


__all__ = [
    "AT_CONCURRENCY_1",
    "CAPACITY_HEADER",
    "LEVEL_HEADER",
    "LOAD_METRICS",
    "MISS_S",
    "Estimate",
    "LoadLevel",
    "LoadRun",
    "SloCheck",
    "StackLoad",
    "capacity_rows",
    "cost_text",
    "estimate_text",
    "level_rows",
    "load_failures",
    "load_lines",
    "load_markdown",
    "load_measure",
    "load_note",
    "load_rich",
    "seconds",
    "target_constraint",
]
