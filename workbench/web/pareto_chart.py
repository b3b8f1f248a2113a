"""The decision chart: primary quality (mean token F1) against latency (median or p95
E2E) or, for a run with a load pass, against capacity at the team's load or the cost per
correct answer there; one bubble per stack with 95% CI whiskers, the Pareto front drawn,
the bubble's area giving throughput, cost or capacity. The points and the front come from
`workbench.report.pareto`; this module only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import plotly.graph_objects as go

from workbench.report.constraints import Constraint
from workbench.report.limits import upper_bound_min_n
from workbench.report.load import AT_CONCURRENCY_1
from workbench.report.models import ScoreCard
from workbench.report.pareto import AXES, LATENCIES, Axis, ParetoPoint, front, pareto_points
from workbench.web.chart_labels import Bubble as NameSpot
from workbench.web.chart_labels import place_labels
from workbench.web.charts import empty_figure, stack_colors, stack_symbols, styled

Bubble = Literal["throughput", "cost", "capacity", "cost at capacity"]
#: Radio labels -> the horizontal axis (the load pass's two only for a run that had one)
#: and the bubble's meaning.
LATENCY_CHOICES: dict[str, Axis] = {"median E2E": "median", "p95 E2E": "p95",
                                    "capacity under load": "capacity",
                                    "cost per correct at capacity": "cost at capacity"}
BUBBLE_CHOICES: dict[str, Bubble] = {"throughput": "throughput", "cost": "cost",
                                     "capacity under load": "capacity",
                                     "cost per correct at capacity": "cost at capacity"}
TITLE = "Quality against latency"
#: The title on a load axis.
LOAD_TITLE = "Quality against the team's load"
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


def _end(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else ("∞" if x > 0 else "-∞")


def _hover(p: ParetoPoint, what: str, need: int) -> str:
    q_ci = f" [{p.quality_ci[0]:.3f}, {p.quality_ci[1]:.3f}]" if p.quality_ci else ""
    l_ci = (f" [{_end(p.latency_ci[0])}, {_end(p.latency_ci[1])}]"
            + ("" if math.isfinite(p.latency_ci[1])
               else f" (an upper bound needs {need} or more answers)")
            if p.latency_ci else "")
    lines = [f"<b>{p.label}</b>{' (baseline)' if p.baseline else ''}",
             f"F1 {p.quality:.3f}{q_ci}", f"{what} {p.latency_s:.2f} s{l_ci}"]
    if p.throughput is not None:
        lines.append(f"throughput {p.throughput:.2f} answers/s")
    if p.cost_per_1k is not None:
        lines.append(f"cost {p.cost_per_1k:.2f} {p.currency}/1k answers")
    elif p.cpu_s_per_answer is not None:
        lines.append(f"{p.cpu_s_per_answer:.2f} CPU-s/answer")
    if p.capacity_rps is not None:
        lines.append(f"capacity under load {p.capacity_rps:.2f} requests/s")
    if p.cost_per_1k_correct is not None:
        lines.append(f"cost at capacity {p.cost_per_1k_correct:.2f} per 1,000 correct answers"
                     + (f" {p.currency}" if p.currency else " (CPU-s)"))
    lines.append("on the Pareto front" if p.on_front else "dominated")
    return "<br>".join(lines)


def _limits(fig: go.Figure, constraints: Sequence[Constraint], latency: Axis,
            card: ScoreCard) -> None:
    """The run's constraints that live on this chart's axes, as dotted lines: an SLO on
    the latency shown, a minimum F1, the target load on the capacity axis."""
    stat = "p95" if latency == "p95" else "p50"
    target = card.load.target_rps if card.load is not None else None
    if latency == "capacity" and target is not None:
        fig.add_vline(x=target, line={"color": "#B00020", "width": 1.2, "dash": "dot"},
                      annotation={"text": f"target {target:g} rps",
                                  "font": {"size": 10, "color": "#B00020"}},
                      annotation_position="top right")
    for c in constraints:
        if latency not in LATENCIES and c.metric == "e2e":
            continue
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


def pareto_figure(card: ScoreCard | None, latency: Axis = "median",
                  bubble: Bubble = "throughput",
                  constraints: Sequence[Constraint] = ()) -> go.Figure:
    """The chart for a scored run (a titled empty frame without one), with the run's
    latency SLO and minimum F1 drawn where they apply to its axes."""
    title = TITLE if latency in LATENCIES else LOAD_TITLE
    if card is None:
        return empty_figure(title, "Pick a run")
    if latency not in LATENCIES and card.load is None:
        return empty_figure(title, AT_CONCURRENCY_1.split(" (")[0])
    points = pareto_points(card, latency)
    if not points:
        return empty_figure(title, "No stack has a successful answer to place"
                            if latency in LATENCIES else "No stack holds a load level")
    what = LATENCIES[latency if latency in LATENCIES else "median"][2]
    need = upper_bound_min_n(0.95 if latency == "p95" else 0.5)
    colors, symbols = stack_colors(card.stacks), stack_symbols(card.stacks)
    sizes = bubble_sizes(points, bubble)
    fig = go.Figure()
    on_front = front(points)
    ring = {p.stack: size + 10 for p, size in zip(points, sizes, strict=True)}
    # The front first, so the bubbles are drawn over it: a line through the non-dominated
    # stacks from the fastest to the best (straight segments: a staircase ran along the
    # whiskers and hid in them).
    fig.add_trace(go.Scatter(
        x=[p.x for p in on_front], y=[p.quality for p in on_front], name=FRONT_NAME,
        mode="lines+markers", line={"color": "#333", "width": 2, "dash": "dash"},
        # A ring around each front stack: visible even when the front is one stack.
        marker={"symbol": "circle-open", "size": [ring[p.stack] for p in on_front],
                "color": "#444", "line": {"width": 1.5}},
        hoverinfo="skip"))
    for p, size in zip(points, sizes, strict=True):
        err_x = err_y = None
        if p.x_ci:
            # An open end has no whisker on that side (the hover says why).
            err_x = {"type": "data", "symmetric": False,
                     "array": [max(0.0, p.x_ci[1] - p.x)
                               if math.isfinite(p.x_ci[1]) else 0.0],
                     "arrayminus": [max(0.0, p.x - p.x_ci[0])
                                    if math.isfinite(p.x_ci[0]) else 0.0],
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
            x=[p.x], y=[p.quality], name=name, mode="markers+text",
            text=text, textposition="top right", textfont={"size": 11},
            marker={"color": colors[p.stack], "symbol": symbols[p.stack], "size": size,
                    "opacity": 0.85, "line": {"color": "white", "width": 1.5}},
            error_x=err_x, error_y=err_y, hovertext=[_hover(p, what, need)], hoverinfo="text"))
    subtitle = f"whiskers: 95% CI · dashed: {FRONT_NAME} · {bubble_meaning(points, bubble)}"
    if any(p.x_ci and not math.isfinite(p.x_ci[1]) for p in points):
        subtitle += f" · no right whisker: no upper bound under {need} answers"
    if latency not in LATENCIES and len(points) < len(card.stacks):
        subtitle += f" · {len(card.stacks) - len(points)} stack(s) without a value not drawn"
    styled(fig, title, AXES[latency][0], "token F1 (mean), higher is better",
           n_series=len(points) + 1, height=400, subtitle=subtitle, width_hint=900)
    _limits(fig, constraints, latency, card)
    stat = "p95" if latency == "p95" else "p50"
    xs = [v for p in points for v in (p.x, *(p.x_ci or ())) if math.isfinite(v)] + [
        c.value for c in constraints if c.metric == "e2e" and (c.stat or "p50") == stat
        and latency in LATENCIES]
    if latency == "capacity" and card.load is not None and card.load.target_rps is not None:
        xs.append(card.load.target_rps)
    ys = [v for p in points for v in (p.quality, *(p.quality_ci or ()))] + [
        c.value for c in constraints if c.metric == "f1"]
    # A load axis starts at 0 (no capacity, no cost) and leaves room for the names.
    x_span = (_span(xs, 0.12, floor=0.0) if latency in LATENCIES
              else [0.0, max(xs, default=1.0) * 1.3 or 1.0])
    y_span = _span(ys, 0.15)
    fig.update_xaxes(range=x_span)
    fig.update_yaxes(range=y_span)
    # Each name on the side of its bubble where it covers no other name or bubble and
    # stays inside the plot; the front's names are placed first.
    named = [(trace, p, size) for trace, p, size in zip(fig.data[1:], points, sizes,
                                                         strict=True) if trace.text]
    named.sort(key=lambda t: not t[1].on_front)
    spots = [NameSpot(p.x, p.quality, size, p.stack) for _, p, size in named]
    for (trace, _, _), where in zip(named, place_labels(spots, (x_span[0], x_span[1]),
                                                        (y_span[0], y_span[1])), strict=True):
        trace.textposition = where
    return fig
