"""The quality-latency trade-off of a run's stacks: one point per stack (its own mean F1
and its median or p95 E2E, each with its 95% bootstrap CI from the stack summary), and
which stacks are on the Pareto front (no other stack is at least as good on both and
better on one).

The numbers are the scorecard's own (`StackSummary.quality`, `.latency`, `.ci`,
`.throughput`, `.cost`); this module only decides dominance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from workbench.report.load import StackLoad
from workbench.report.models import ScoreCard
from workbench.report.verdict import PRIMARY_QUALITY

Latency = Literal["median", "p95"]
#: Which latency statistic: (key in `StackSummary.ci`, attribute of the E2E summary, label).
LATENCIES: dict[str, tuple[str, str, str]] = {
    "median": ("e2e.p50", "p50", "median E2E"),
    "p95": ("e2e.p95", "p95", "p95 E2E"),
}


@dataclass(frozen=True)
class ParetoPoint:
    """One stack on the trade-off chart."""

    stack: str
    label: str
    baseline: bool
    #: Mean token F1 over the stack's answers, with its 95% CI.
    quality: float
    quality_ci: tuple[float, float] | None
    #: Median or p95 E2E (s) of its successful requests, with its 95% CI.
    latency_s: float
    latency_ci: tuple[float, float] | None
    #: Answers per second while it was asked (None when unknown).
    throughput: float | None
    #: Cost per 1,000 answers in `currency`, else CPU-seconds per answer (None: unknown).
    cost_per_1k: float | None
    currency: str
    cpu_s_per_answer: float | None
    on_front: bool
    #: Under the load pass (None: the run had none, or no level held): capacity (requests/s)
    #: and the cost per 1,000 correct answers there (price, else CPU-seconds).
    capacity_rps: float | None = None
    cost_per_1k_correct: float | None = None


def _cost_at_capacity(load: StackLoad | None) -> float | None:
    if load is None:
        return None
    if load.cost_per_1k_correct is not None:
        return load.cost_per_1k_correct
    return load.cpu_s_per_correct * 1000 if load.cpu_s_per_correct is not None else None


def _pair(values: list[float] | None) -> tuple[float, float] | None:
    return (values[0], values[1]) if values and len(values) == 2 else None


def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
    """`a` is at least as good as `b` on quality (higher) and latency (lower), better on
    one."""
    return (a.quality >= b.quality and a.latency_s <= b.latency_s
            and (a.quality > b.quality or a.latency_s < b.latency_s))


def pareto_points(card: ScoreCard, latency: Latency = "median") -> list[ParetoPoint]:
    """Every stack with an F1 and an E2E, in run order, marked on or off the front.

    Stacks without a successful answer have no point (they cannot be placed)."""
    ci_key, attr, _ = LATENCIES[latency]
    points: list[ParetoPoint] = []
    for stack in card.stacks:
        s = card.summaries[stack]
        f1 = s.quality.get(PRIMARY_QUALITY)
        e2e = s.latency.get("e2e")
        value = getattr(e2e, attr) if e2e is not None else None
        if f1 is None or value is None:
            continue
        cost = s.cost
        points.append(ParetoPoint(
            stack=stack, label=card.label(stack), baseline=s.baseline, quality=f1,
            quality_ci=_pair(s.ci.get(PRIMARY_QUALITY)), latency_s=value,
            latency_ci=_pair(s.ci.get(ci_key)), throughput=s.throughput,
            cost_per_1k=cost.per_1k_answers if cost else None,
            currency=cost.currency if cost else "",
            cpu_s_per_answer=cost.cpu_s_per_answer if cost else None, on_front=False,
            capacity_rps=s.load.capacity_rps if s.load else None,
            cost_per_1k_correct=_cost_at_capacity(s.load)))
    return [replace(p, on_front=not any(dominates(o, p) for o in points if o is not p))
            for p in points]


def front(points: list[ParetoPoint]) -> list[ParetoPoint]:
    """The front's points from fastest to slowest (quality rises along it)."""
    return sorted((p for p in points if p.on_front), key=lambda p: (p.latency_s, -p.quality))
