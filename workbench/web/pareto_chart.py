"""The decision chart: primary quality (mean token F1) against latency (median or p95
E2E), one bubble per stack with 95% CI whiskers on both axes, the Pareto front drawn, the
bubble's area giving throughput or cost. The points and the front come from
`workbench.report.pareto`; this module only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import plotly.graph_objects as go

from workbench.report.constraints import Constraint
from workbench.report.models import ScoreCard
from workbench.report.pareto import LATENCIES, Latency, ParetoPoint, front, pareto_points
from workbench.web.charts import empty_figure, stack_colors, stack_symbols, styled

Bubble = Literal["throughput", "cost", "capacity", "cost at capacity"]
#: Radio labels -> the latency statistic and the bubble's meaning.
LATENCY_CHOICES: dict[str, Latency] = {"median E2E": "median", "p95 E2E": "p95"}
BUBBLE_CHOICES: dict[str, Bubble] = {"throughput": "throughput", "cost": "cost",
                                     "capacity under load": "capacity",
                                     "cost per correct at capacity": "cost at capacity"}
TITLE = "Quality against latency"
#: Bubble diameters (px): the smallest stays clickable, the largest never hides a neighbour.
MIN_SIZE, MAX_SIZE = 14.0, 40.0
FRONT_NAME = "Pareto front"


def _bubble_value(p: ParetoPoint, bubble: Bubble) -> float | None:
    if bubble == "throughput":
        return p.throughput
    if bubble == "capacity":
        return p.capacity_rps
    if bubble == "cost at capacity":
        return p.cost_per_1k_correct
    return p.cost_per_1k if p.cost_per_1k is not None else p.cpu_s_per_answer


def bubble_meaning(points: list[ParetoPoint], bubble: Bubble) -> str:
    """What the bubble's area says (or that it says nothing for this run)."""
    if not any(_bubble_value(p, bubble) is not None for p in points):
        return f"no {bubble} recorded: every bubble the same size"
    if bubble == "throughput":
        return "bubble area: throughput (answers/s)"
    if bubble == "capacity":
        return "bubble area: capacity under load (requests/s at the highest level that holds)"
    if bubble == "cost at capacity":
        return "bubble area: cost per 1,000 correct answers at capacity"
    if any(p.cost_per_1k is not None for p in points):
        currency = next((p.currency for p in points if p.currency), "")
        return f"bubble area: cost per 1,000 answers {currency}".rstrip()
    return "bubble area: CPU-seconds per answer"


def bubble_sizes(points: list[ParetoPoint], bubble: Bubble) -> list[float]:
    """Marker diameters: area proportional to the value (the largest gets MAX_SIZE);
    a point without a value gets the smallest size."""
    values = [_bubble_value(p, bubble) for p in points]
    top = max((v for v in values if v is not None and v > 0), default=None)
    if top is None:
        return [(MIN_SIZE + MAX_SIZE) / 2] * len(points)
    return [MIN_SIZE if v is None or v <= 0
            else max(MIN_SIZE, MAX_SIZE * math.sqrt(v / top)) for v in values]


def _span(values: list[float], pad: float, floor: float | None = None) -> list[float]:
    low, high = min(values), max(values)
    width = (high - low) or max(abs(high), 0.1)
    start = low - pad * width
    return [max(floor, start) if floor is not None else start, high + pad * width]


def _hover(p: ParetoPoint, what: str) -> str:
    q_ci = f" [{p.quality_ci[0]:.3f}, {p.quality_ci[1]:.3f}]" if p.quality_ci else ""
    l_ci = f" [{p.latency_ci[0]:.2f}, {p.latency_ci[1]:.2f}]" if p.latency_ci else ""
    lines = [f"<b>{p.label}</b>{' (baseline)' if p.baseline else ''}",
             f"F1 {p.quality:.3f}{q_ci}", f"{what} {p.latency_s:.2f} s{l_ci}"]
    if p.throughput is not None:
        lines.append(f"throughput {p.throughput:.2f} answers/s")
    if p.cost_per_1k is not None:
        lines.append(f"cost {p.cost_per_1k:.2f} {p.currency}/1k answers")
    elif p.cpu_s_per_answer is not None:
        lines.append(f"{p.cpu_s_per_answer:.2f} CPU-s/answer")
    lines.append("on the Pareto front" if p.on_front else "dominated")
    return "<br>".join(lines)


def _limits(fig: go.Figure, constraints: Sequence[Constraint], latency: Latency) -> None:
    """The run's constraints that live on this chart's axes, as dotted lines: an SLO on
    the latency shown, a minimum F1."""
    stat = "p95" if latency == "p95" else "p50"
    for c in constraints:
        if c.metric == "e2e" and (c.stat or "p50") == stat and c.op in ("<=", "<"):
            fig.add_vline(x=c.value, line={"color": "#B00020", "width": 1.2, "dash": "dot"},
                          annotation={"text": f"SLO {c.text}", "font": {"size": 10,
                                                                        "color": "#B00020"}},
                          annotation_position="top left")
        elif c.metric == "f1" and c.op in (">=", ">"):
            fig.add_hline(y=c.value, line={"color": "#B00020", "width": 1.2, "dash": "dot"},
                          annotation={"text": f"min {c.text}", "font": {"size": 10,
                                                                        "color": "#B00020"}},
                          annotation_position="bottom right")


def pareto_figure(card: ScoreCard | None, latency: Latency = "median",
                  bubble: Bubble = "throughput",
                  constraints: Sequence[Constraint] = ()) -> go.Figure:
    """The chart for a scored run (a titled empty frame without one), with the run's
    latency SLO and minimum F1 drawn where they apply to its axes."""
    if card is None:
        return empty_figure(TITLE, "Pick a run")
    points = pareto_points(card, latency)
    if not points:
        return empty_figure(TITLE, "No stack has a successful answer to place")
    what = LATENCIES[latency][2]
    colors, symbols = stack_colors(card.stacks), stack_symbols(card.stacks)
    sizes = bubble_sizes(points, bubble)
    fig = go.Figure()
    on_front = front(points)
    ring = {p.stack: size + 10 for p, size in zip(points, sizes, strict=True)}
    # The front first, so the bubbles are drawn over it: a line through the non-dominated
    # stacks from the fastest to the best (straight segments: a staircase ran along the
    # whiskers and hid in them).
    fig.add_trace(go.Scatter(
        x=[p.latency_s for p in on_front], y=[p.quality for p in on_front], name=FRONT_NAME,
        mode="lines+markers", line={"color": "#333", "width": 2, "dash": "dash"},
        # A ring around each front stack: visible even when the front is one stack.
        marker={"symbol": "circle-open", "size": [ring[p.stack] for p in on_front],
                "color": "#444", "line": {"width": 1.5}},
        hoverinfo="skip"))
    for p, size in zip(points, sizes, strict=True):
        err_x = err_y = None
        if p.latency_ci:
            err_x = {"type": "data", "symmetric": False,
                     "array": [max(0.0, p.latency_ci[1] - p.latency_s)],
                     "arrayminus": [max(0.0, p.latency_s - p.latency_ci[0])],
                     "color": colors[p.stack], "thickness": 1.6, "width": 5}
        if p.quality_ci:
            err_y = {"type": "data", "symmetric": False,
                     "array": [max(0.0, p.quality_ci[1] - p.quality)],
                     "arrayminus": [max(0.0, p.quality - p.quality_ci[0])],
                     "color": colors[p.stack], "thickness": 1.6, "width": 5}
        # Named by stack, as in every other chart (the legend is the colour key).
        name = p.stack + (" (baseline)" if p.baseline else "")
        # Beyond four stacks the names collide: only the front's are written on the chart.
        text = [p.stack] if len(points) <= 4 or p.on_front else []
        fig.add_trace(go.Scatter(
            x=[p.latency_s], y=[p.quality], name=name, mode="markers+text",
            text=text, textposition="top right", textfont={"size": 11},
            marker={"color": colors[p.stack], "symbol": symbols[p.stack], "size": size,
                    "opacity": 0.85, "line": {"color": "white", "width": 1.5}},
            error_x=err_x, error_y=err_y, hovertext=[_hover(p, what)], hoverinfo="text"))
    subtitle = f"whiskers: 95% CI · dashed: {FRONT_NAME} · {bubble_meaning(points, bubble)}"
    styled(fig, TITLE, f"{what} (s), lower is better", "token F1 (mean), higher is better",
           n_series=len(points) + 1, height=400, subtitle=subtitle, width_hint=900)
    _limits(fig, constraints, latency)
    stat = "p95" if latency == "p95" else "p50"
    xs = [v for p in points for v in (p.latency_s, *(p.latency_ci or ()))] + [
        c.value for c in constraints if c.metric == "e2e" and (c.stat or "p50") == stat]
    ys = [v for p in points for v in (p.quality, *(p.quality_ci or ()))] + [
        c.value for c in constraints if c.metric == "f1"]
    fig.update_xaxes(range=_span(xs, 0.12, floor=0.0))
    fig.update_yaxes(range=_span(ys, 0.15))
    return fig
