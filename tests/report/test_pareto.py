"""The Pareto front of a run's stacks (F1 up, latency down) from a real scorecard."""

from __future__ import annotations

from tests.report.synthetic import question, record
from workbench.report import build_scorecard
from workbench.report.models import ScoreCard
from workbench.report.pareto import front, pareto_points


def _card(quality: dict[str, int], speed: dict[str, float]) -> ScoreCard:
    """30 questions; each stack answers `quality[side]` in 10 right, at `speed` x 0.1 s."""
    questions = [question(f"q{i}", [f"answer {i}"]) for i in range(30)]
    records = [record(q.id, side, f"answer {i}" if i % 10 < right else "wrong",
                      ttft=speed[side] * (0.1 + i / 300))
               for side, right in quality.items() for i, q in enumerate(questions)]
    return build_scorecard(questions, records, semantic=False)


def test_front_keeps_the_non_dominated_stacks_fastest_first() -> None:
    # A: good and slow; B: worse and fast; C: worse than A and slower (dominated).
    card = _card({"A": 8, "B": 4, "C": 6}, {"A": 2.0, "B": 1.0, "C": 3.0})
    points = {p.stack: p for p in pareto_points(card)}
    assert [p.stack for p in front(list(points.values()))] == ["stack-b", "stack-a"]
    assert not points["stack-c"].on_front
    a = points["stack-a"]
    assert a.quality == card.summaries["stack-a"].quality["f1"]
    assert a.latency_s == card.summaries["stack-a"].latency["e2e"].p50
    assert a.quality_ci is not None and a.quality_ci[0] <= a.quality <= a.quality_ci[1]
    assert a.latency_ci is not None and a.latency_ci[0] <= a.latency_s <= a.latency_ci[1]
    assert a.baseline and not points["stack-b"].baseline


def test_p95_uses_the_tail_and_one_stack_can_dominate_all() -> None:
    card = _card({"A": 5, "B": 9}, {"A": 2.0, "B": 1.0})
    points = pareto_points(card, "p95")
    assert [p.stack for p in front(points)] == ["stack-b"]
    b = next(p for p in points if p.stack == "stack-b")
    assert b.latency_s == card.summaries["stack-b"].latency["e2e"].p95
