"""The Results tab's figures as the browser receives them (the Plotly spec): quantitative
axes with a handful of ticks and units, one distinct Okabe-Ito colour per stack named in
the legend, for 2 to 8 stacks; the decision chart's CI whiskers, front and bubbles."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.report.synthetic import question, record
from workbench.report import build_scorecard
from workbench.report.models import ScoreCard
from workbench.report.pareto import front, pareto_points
from workbench.report.stored import scorecard_for_run
from workbench.store.db import Store
from workbench.web import charts, plots
from workbench.web.common import WebConfig
from workbench.web.pareto_chart import FRONT_NAME, MAX_SIZE, MIN_SIZE, pareto_figure
from workbench.web.results import plot_figures

SIDES = "ABCDEFGH"


def _card(n_stacks: int, n: int = 24) -> ScoreCard:
    """Stack i answers (i + 2) in 10 questions right, at (1 + i / 2) x the base latency."""
    questions = [question(f"q{j}", [f"answer {j}"], lang="en" if j % 2 else "ru")
                 for j in range(n)]
    records = [record(q.id, side, f"answer {j}" if j % 10 < i + 2 else "wrong",
                      ttft=(1 + i / 2) * (0.1 + j / 200), docs=[f"q{j}-doc", "x"])
               for i, side in enumerate(SIDES[:n_stacks]) for j, q in enumerate(questions)]
    return build_scorecard(questions, records, semantic=False)


def _colors(fig: object) -> list[str]:
    out = []
    for t in fig.data:  # type: ignore[attr-defined]
        if t.name == FRONT_NAME:
            continue
        marker = getattr(t, "marker", None)
        line = getattr(t, "line", None)
        out.append((marker.color if marker is not None and marker.color else None)
                   or line.color)
    return out


@pytest.mark.parametrize("n_stacks", [2, 3, 8])
def test_every_chart_has_a_distinct_colour_per_stack_and_linear_axes(n_stacks: int) -> None:
    card = _card(n_stacks)
    points = [(s, 0.2 + i / 10, 0.5 + i / 10) for i, s in enumerate(card.stacks)]
    frame = pd.DataFrame(points * 3, columns=["stack", "ttft_s", "e2e_s"])
    figures = [
        charts.cdf_figure(plots.latency_cdf(frame, "e2e_s"), card.stacks, "E2E latency CDF",
                          "E2E"),
        charts.scatter_figure(plots.ttft_vs_e2e(frame), card.stacks),
        charts.bars_figure(plots.quality_by(card, "lang"), card.stacks, "F1 by language",
                           "token F1 (mean)"),
        charts.hit_at_k_figure(plots.hit_at_k(card), card.stacks),
        pareto_figure(card),
    ]
    for fig in figures:
        names = [t.name for t in fig.data if t.name != FRONT_NAME]
        assert [n.removesuffix(" (baseline)") for n in names] == card.stacks
        colors = _colors(fig)
        assert len(set(colors)) == n_stacks, colors
        assert set(colors) <= set(charts.OKABE_ITO)
        layout = fig.layout
        assert layout.yaxis.nticks == charts.N_TICKS
        assert layout.yaxis.title.text
        if layout.xaxis.type != "category":
            assert layout.xaxis.nticks == charts.N_TICKS or layout.xaxis.tickvals
            assert layout.xaxis.title.text
        # The legend sits under the plot in rows; the height grows with them.
        assert layout.legend.orientation == "h" and layout.legend.y < 0
        assert layout.height >= 300 + 22 * charts.legend_rows(card.stacks)


def test_cdf_axes_are_numbers_in_seconds_and_shares() -> None:
    frame = pd.DataFrame({"stack": ["a"] * 50 + ["b"] * 50,
                          "ttft_s": [0.1] * 100, "e2e_s": [i / 10 for i in range(100)]})
    fig = charts.cdf_figure(plots.latency_cdf(frame, "e2e_s"), ["a", "b"], "E2E latency CDF",
                            "E2E")
    x = fig.data[0].x
    assert len(x) == 101 and float(x[0]) == 0.0 and float(x[-1]) == pytest.approx(4.9)
    assert fig.layout.xaxis.title.text == "E2E (s)"
    assert fig.layout.yaxis.tickformat == ".0%" and tuple(fig.layout.yaxis.range) == (0, 1.02)


def test_bars_keep_numeric_values_and_group_order() -> None:
    card = _card(3)
    fig = charts.bars_figure(plots.quality_by(card, "answerable"), card.stacks, "t", "y")
    assert list(fig.layout.xaxis.categoryarray) == ["answerable: F1"]
    for trace, stack in zip(fig.data, card.stacks, strict=True):
        assert trace.y[0] == pytest.approx(card.summaries[stack].quality["f1"])


def test_pareto_chart_whiskers_front_and_bubbles() -> None:
    card = _card(4)
    fig = pareto_figure(card)
    points = {p.stack: p for p in pareto_points(card)}
    front_trace = next(t for t in fig.data if t.name == FRONT_NAME)
    assert list(front_trace.x) == [p.latency_s for p in front(list(points.values()))]
    sizes = {}
    for t in fig.data:
        if t.name == FRONT_NAME:
            continue
        stack = t.name.removesuffix(" (baseline)")
        p = points[stack]
        assert t.x[0] == p.latency_s and t.y[0] == p.quality
        assert p.quality_ci and p.latency_ci
        assert t.error_y.array[0] == pytest.approx(p.quality_ci[1] - p.quality)
        assert t.error_y.arrayminus[0] == pytest.approx(p.quality - p.quality_ci[0])
        assert t.error_x.array[0] == pytest.approx(p.latency_ci[1] - p.latency_s)
        sizes[stack] = t.marker.size
    # Bubble area follows throughput: the highest throughput gets the largest bubble.
    fastest = max(points.values(), key=lambda p: p.throughput or 0).stack
    assert sizes[fastest] == MAX_SIZE and min(sizes.values()) >= MIN_SIZE
    assert "median E2E" in fig.layout.xaxis.title.text
    tail = pareto_figure(card, "p95")
    assert "p95 E2E" in tail.layout.xaxis.title.text
    assert tail.data[1].x[0] == card.summaries[card.stacks[0]].latency["e2e"].p95
    no_cost = pareto_figure(card, bubble="cost")
    assert "no cost recorded" in no_cost.layout.title.subtitle.text


def test_results_figures_of_a_stored_run(three_stacks: tuple[WebConfig, str]) -> None:
    cfg, run_id = three_stacks
    with Store(cfg.db_path) as store:
        card = scorecard_for_run(store, run_id, semantic=False)
    figures = plot_figures(cfg, card)
    assert len(figures) == 6
    for fig in figures:
        assert {t.name for t in fig.data} == set(card.stacks)
        assert fig.layout.title.text and len(fig.layout.title.text) <= 45
    empty = plot_figures(cfg, None)
    assert all(not f.data and f.layout.annotations[0].text == "Pick a run" for f in empty)


def test_the_runs_slo_and_minimum_f1_are_drawn_on_their_axes() -> None:
    from workbench.report.constraints import parse_constraints

    card = _card(3)
    limits = parse_constraints(["e2e.p95<=2s", "f1>=0.2", "ttft.p50<=1s"])
    median = pareto_figure(card, "median", constraints=limits)
    assert [s.type for s in median.layout.shapes] == ["line"]  # min F1 only
    assert median.layout.shapes[0].y0 == 0.2
    tail = pareto_figure(card, "p95", constraints=limits)
    xs = sorted(s.x0 for s in tail.layout.shapes if s.x0 == s.x1)
    assert xs == [2.0] and tail.layout.xaxis.range[1] > 2.0
    assert any("SLO e2e.p95<=2s" in a.text for a in tail.layout.annotations)
