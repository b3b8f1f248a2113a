"""The views read the load pass from the card: the Pareto chart's capacity and
cost-at-capacity bubbles, the Markdown report's capacity section, and the note that a run
without a load block was chosen at concurrency 1."""

from __future__ import annotations

import pytest

from tests.report.load_cards import A, B, make_card, with_load
from workbench.report.models import ScoreCard


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> ScoreCard:
    return make_card(tmp_path_factory)


def test_pareto_points_and_views_carry_the_load(card: ScoreCard) -> None:
    from workbench.report.pareto import pareto_points
    from workbench.report.render import render_markdown
    from workbench.web.pareto_chart import bubble_meaning, bubble_sizes

    loaded = with_load(card)
    points = {p.stack: p for p in pareto_points(loaded)}
    assert points[A].capacity_rps == 2.0 and points[B].capacity_rps == 1.0
    # CPU-seconds per 1,000 correct answers at capacity: A 200/100, B 110/50.
    assert points[A].cost_per_1k_correct == pytest.approx(2000.0)
    assert points[B].cost_per_1k_correct == pytest.approx(2200.0)
    sizes = bubble_sizes(list(points.values()), "capacity")
    assert sizes[0] > sizes[1]
    assert "capacity under load" in bubble_meaning(list(points.values()), "capacity")
    md = render_markdown(loaded)
    assert "## Capacity at load" in md and "broke at c=2" in md
    assert "chosen at concurrency 1" in render_markdown(card)


def test_pareto_chart_puts_capacity_or_cost_at_capacity_on_its_axis(card: ScoreCard) -> None:
    from workbench.report.pareto import front, pareto_points
    from workbench.web.pareto_chart import pareto_figure

    loaded = with_load(card)
    # Capacity: higher is better. A holds 2 rps, B 1 rps; the front runs from the most
    # capacity down, and a stack better on F1 but lower on capacity stays on it.
    cap = {p.stack: p for p in pareto_points(loaded, "capacity")}
    assert (cap[A].x, cap[B].x) == (2.0, 1.0) and not cap[A].x_lower_better
    assert front(list(cap.values()))[0].stack == A
    better_b = cap[B].quality > cap[A].quality
    assert cap[B].on_front == better_b
    # Cost per 1,000 correct answers at capacity (CPU-seconds): lower is better.
    cost = {p.stack: p for p in pareto_points(loaded, "cost at capacity")}
    assert cost[A].x == pytest.approx(2000.0) and cost[B].x == pytest.approx(2200.0)
    assert cost[A].x_lower_better
    fig = pareto_figure(loaded, "capacity")
    assert "capacity under load" in fig.layout.xaxis.title.text
    assert [list(t.x) for t in fig.data if t.name.startswith(B)] == [[1.0]]
    assert any(s.x0 == 2.0 for s in fig.layout.shapes)  # the target, 2 rps, drawn
    # A run without a load pass has nothing to put there, and says why.
    empty = pareto_figure(card, "capacity")
    assert not empty.data and "chosen at concurrency 1" in str(empty.layout)
