"""Plotly figures for the Results tab (shown with `gr.Plot`), one colour per stack.

Why Plotly: Gradio 6's native plots, fed pandas 3 frames, drew every numeric value as its
own category tick and ordered bars as text; they also cannot draw error bars on both axes,
bubble sizes or a Pareto front. Plotly's axes here are always linear (quantitative) with a
handful of ticks (`nticks`) and units in their titles, and every stack keeps one colour
and one marker symbol from the Okabe-Ito palette (safe for the common colour-vision
deficiencies) in every chart, in run order, for 2-8 stacks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

#: Okabe & Ito (2008), ordered so the first stacks get the most distinct hues; yellow,
#: the faintest on white, comes last.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442")
#: A second cue besides colour, in the same order.
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star",
           "cross")
#: Ticks per axis: enough to read a value, few enough never to overlap.
N_TICKS = 6
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"


def stack_colors(stacks: Sequence[str]) -> dict[str, str]:
    """Stack -> its colour, by position in the run (the same in every chart)."""
    return {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(stacks)}


def stack_symbols(stacks: Sequence[str]) -> dict[str, str]:
    """Stack -> its marker symbol, by position in the run."""
    return {s: SYMBOLS[i % len(SYMBOLS)] for i, s in enumerate(stacks)}


def legend_rows(stacks: Sequence[str]) -> int:
    """How many rows a horizontal legend of these stacks takes in a chart ~430 px wide."""
    entry = 7 * max((len(s) for s in stacks), default=8) + 44
    return max(1, math.ceil(len(stacks) / max(1, 430 // entry)))


def styled(fig: go.Figure, title: str, x_title: str, y_title: str, *, n_series: int,
           height: int = 300, subtitle: str = "", width_hint: int = 430) -> go.Figure:
    """The common look: a left-aligned title that fits, linear axes with a few ticks,
    the legend in rows under the plot (so it never covers data), and the height grown
    by the legend's rows."""
    # Fixed-width legend entries: Plotly otherwise gave each long name its own row and the
    # plot shrank to a strip. Rows are counted for a chart `width_hint` px wide (a detail
    # chart is ~430 px, two a row).
    longest = max((len(t.name or "") for t in fig.data), default=8)
    entry = 7 * longest + 44
    rows = max(1, math.ceil(n_series / max(1, width_hint // entry)))
    heading: dict[str, object] = {
        "text": title, "x": 0.01, "xanchor": "left", "xref": "container", "y": 1.0,
        "yanchor": "top", "yref": "container", "pad": {"t": 10}, "font": {"size": 14}}
    if subtitle:
        heading["subtitle"] = {"text": subtitle, "font": {"size": 11, "color": "#555"}}
    fig.update_layout(
        template="plotly_white", height=height + 22 * rows, title=heading,
        font={"family": FONT, "size": 12},
        margin={"l": 60, "r": 16, "t": 64 if subtitle else 44, "b": 50 + 22 * rows},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16 - 0.02 * rows,
                "xanchor": "left", "x": 0, "font": {"size": 11}, "entrywidth": entry,
                "entrywidthmode": "pixels"},
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_xaxes(title={"text": x_title, "standoff": 6}, nticks=N_TICKS, showline=True,
                     linecolor="#888", ticks="outside", zeroline=False)
    fig.update_yaxes(title={"text": y_title, "standoff": 6}, nticks=N_TICKS, showline=True,
                     linecolor="#888", ticks="outside", zeroline=False)
    return fig


def empty_figure(title: str, message: str = "No data") -> go.Figure:
    """A titled frame with a message instead of data (no run, or nothing to draw)."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font={"size": 13, "color": "#666"})
    styled(fig, title, "", "", n_series=0)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def cdf_figure(cdf: pd.DataFrame, stacks: Sequence[str], title: str, what: str) -> go.Figure:
    """Empirical CDFs (columns stack, seconds, share): one line per stack."""
    if cdf.empty:
        return empty_figure(title)
    colors = stack_colors(stacks)
    fig = go.Figure()
    for stack in stacks:
        part = cdf[cdf["stack"] == stack]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["seconds"].to_numpy(float), y=part["share"].to_numpy(float), name=stack,
            mode="lines", line={"color": colors[stack], "width": 2.2},
            hovertemplate=f"{stack}<br>{what} %{{x:.3f}} s<br>%{{y:.0%}} of requests"
                          "<extra></extra>"))
    styled(fig, title, f"{what} (s)", "share of requests", n_series=len(stacks))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(rangemode="tozero")
    return fig


def scatter_figure(points: pd.DataFrame, stacks: Sequence[str]) -> go.Figure:
    """TTFT against E2E per request (columns stack, ttft_s, e2e_s)."""
    title = "TTFT vs E2E per request"
    if points.empty:
        return empty_figure(title)
    colors, symbols = stack_colors(stacks), stack_symbols(stacks)
    fig = go.Figure()
    for stack in stacks:
        part = points[points["stack"] == stack]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["ttft_s"].to_numpy(float), y=part["e2e_s"].to_numpy(float), name=stack,
            mode="markers", marker={"color": colors[stack], "symbol": symbols[stack],
                                    "size": 5, "opacity": 0.55},
            hovertemplate=f"{stack}<br>TTFT %{{x:.3f}} s<br>E2E %{{y:.3f}} s<extra></extra>"))
    styled(fig, title, "TTFT (s)", "E2E (s)", n_series=len(stacks))
    fig.update_xaxes(rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    return fig


def bars_figure(bars: pd.DataFrame, stacks: Sequence[str], title: str,
                y_title: str) -> go.Figure:
    """Grouped bars (columns group, stack, value, n): one bar colour per stack, groups in
    the frame's order, values on a 0-1 axis."""
    if bars.empty:
        return empty_figure(title)
    colors = stack_colors(stacks)
    groups = list(dict.fromkeys(bars["group"]))
    fig = go.Figure()
    for stack in stacks:
        part = bars[bars["stack"] == stack].set_index("group")
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            x=groups, y=[float(part["value"].get(g, math.nan)) for g in groups], name=stack,
            marker={"color": colors[stack]},
            customdata=[int(part["n"].get(g, 0)) for g in groups],
            hovertemplate=f"{stack}<br>%{{x}}: %{{y:.3f}} (n=%{{customdata}})"
                          "<extra></extra>"))
    styled(fig, title, "", y_title, n_series=len(stacks))
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=groups)
    fig.update_yaxes(range=[0, 1], tickformat=".1f")
    return fig


def hit_at_k_figure(hits: pd.DataFrame, stacks: Sequence[str]) -> go.Figure:
    """Hit@k over k (columns k, hit_rate, stack): one line per stack, k as integers."""
    title = "Hit@k (answerable questions)"
    if hits.empty:
        return empty_figure(title)
    colors, symbols = stack_colors(stacks), stack_symbols(stacks)
    fig = go.Figure()
    for stack in stacks:
        part = hits[hits["stack"] == stack].sort_values("k")
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["k"].to_numpy(int), y=part["hit_rate"].to_numpy(float), name=stack,
            mode="lines+markers", line={"color": colors[stack], "width": 2},
            marker={"symbol": symbols[stack], "size": 8, "color": colors[stack]},
            hovertemplate=f"{stack}<br>hit@%{{x}}: %{{y:.1%}}<extra></extra>"))
    ks = sorted({int(k) for k in hits["k"]})
    styled(fig, title, "k (passages retrieved)", "hit rate", n_series=len(stacks))
    fig.update_xaxes(tickmode="array", tickvals=ks, range=[min(ks) - 0.4, max(ks) + 0.4])
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig
