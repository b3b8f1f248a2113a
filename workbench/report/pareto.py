"""The quality-latency trade-off of a run's stacks: one point per stack (its own mean F1
and its median or p95 E2E, each with its 95% bootstrap CI from the stack summary), and
which stacks are on the Pareto front (no other stack is at least as good on both and
better on one).

The numbers are the scorecard's own (`StackSummary.quality`, `.latency`, `.ci`,
`.throughput`, `.cost`); this module only decides dominance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from workbench.report.load import StackLoad
from workbench.report.models import ScoreCard
from workbench.report.verdict import PRIMARY_QUALITY

Latency = Literal["median", "p95"]
#: The chart's horizontal axis: a latency, or the load pass's capacity (requests/s at the
#: highest level that holds; higher is better) or cost per 1,000 correct answers there.
Axis = Literal["median", "p95", "capacity", "cost at capacity"]
#: Which latency statistic: (key in `StackSummary.ci`, attribute of the E2E summary, label).
LATENCIES: dict[str, tuple[str, str, str]] = {
    "median": ("e2e.p50", "p50", "median E2E"),
    "p95": ("e2e.p95", "p95", "p95 E2E"),
}
#: Axis -> (its title, lower is better).
AXES: dict[str, tuple[str, bool]] = {
    "median": ("median E2E (s), lower is better", True),
    "p95": ("p95 E2E (s), lower is better", True),
    "capacity": ("capacity under load (requests/s within every SLO, correct answers), "
                 "higher is better", False),
    "cost at capacity": ("cost per 1,000 correct answers at capacity (price, else "
                         "CPU-seconds), lower is better", True),
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
    #: Median or p95 E2E (s) of its successful requests, with its 95% CI (an end the
    #: requests cannot bound is infinite: a p95's upper end needs 72 of them).
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
    #: The point on the chart's horizontal axis (`Axis`): the latency, the capacity or the
    #: cost at capacity, with its CI where it has one, and which way is better.
    x: float = math.nan
    x_ci: tuple[float, float] | None = None
    x_lower_better: bool = True


def _cost_at_capacity(load: StackLoad | None) -> float | None:
    if load is None:
        return None
    if load.cost_per_1k_correct is not None:
        return load.cost_per_1k_correct
    return load.cpu_s_per_correct * 1000 if load.cpu_s_per_correct is not None else None


def _pair(values: list[float | None] | None) -> tuple[float, float] | None:
    # An end the data cannot bound (a p95's upper end under 72 requests) is infinite here.
    if not values or len(values) != 2:
        return None
    low, high = values
    return (low if low is not None else -math.inf, high if high is not None else math.inf)


def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
    """`a` is at least as good as `b` on quality (higher) and on the horizontal axis
    (lower latency or cost, higher capacity), better on one."""
    ax, bx = (a.x, b.x) if a.x_lower_better else (-a.x, -b.x)
    return (a.quality >= b.quality and ax <= bx
            and (a.quality > b.quality or ax < bx))


def _x(axis: Axis, latency_s: float, latency_ci: tuple[float, float] | None,
       load: StackLoad | None) -> tuple[float, tuple[float, float] | None] | None:
    if axis in LATENCIES:
        return latency_s, latency_ci
    if load is None:
        return None
    if axis == "capacity":  # no level held: nothing was carried within the SLOs
        return (load.capacity_rps or 0.0), None
    cost = _cost_at_capacity(load)
    return None if cost is None else (cost, None)


def pareto_points(card: ScoreCard, latency: Axis = "median") -> list[ParetoPoint]:
    """Every stack with an F1 and an E2E (and, on a load axis, a load result), in run
    order, marked on or off the front.

    Stacks without a successful answer have no point (they cannot be placed); on the
    capacity axis a stack that held no level sits at 0; on the cost axis it has no point
    (nothing correct within the SLOs to divide by)."""
    ci_key, attr, _ = LATENCIES[latency if latency in LATENCIES else "median"]
    points: list[ParetoPoint] = []
    for stack in card.stacks:
        s = card.summaries[stack]
        f1 = s.quality.get(PRIMARY_QUALITY)
        e2e = s.latency.get("e2e")
        value = getattr(e2e, attr) if e2e is not None else None
        if f1 is None or value is None:
            continue
        latency_ci = _pair(s.ci.get(ci_key))
        x = _x(latency, value, latency_ci, s.load)
        if x is None:
            continue
        cost = s.cost
        points.append(ParetoPoint(
            stack=stack, label=card.label(stack), baseline=s.baseline, quality=f1,
            quality_ci=_pair(s.ci.get(PRIMARY_QUALITY)), latency_s=value,
            latency_ci=latency_ci, throughput=s.throughput,
            cost_per_1k=cost.per_1k_answers if cost else None,
            currency=cost.currency if cost else "",
            cpu_s_per_answer=cost.cpu_s_per_answer if cost else None, on_front=False,
            capacity_rps=s.load.capacity_rps if s.load else None,
            cost_per_1k_correct=_cost_at_capacity(s.load), x=x[0], x_ci=x[1],
            x_lower_better=AXES[latency][1]))
    return [replace(p, on_front=not any(dominates(o, p) for o in points if o is not p))
            for p in points]


def front(points: list[ParetoPoint]) -> list[ParetoPoint]:
    """The front's points from the best on the horizontal axis to the worst (quality rises
    along it)."""
    return sorted((p for p in points if p.on_front),
                  key=lambda p: (p.x if p.x_lower_better else -p.x, -p.quality))
