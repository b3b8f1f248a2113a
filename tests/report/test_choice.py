"""The recommendation, the constraints and the CI gate, on synthetic runs with known
outcomes (see tests/report/test_scorecard.py for the runs' shape)."""

from __future__ import annotations

import pytest

from tests.report.test_scorecard import A, B, C, _card, _fixed, three_stacks
from workbench.report.choice import recommend
from workbench.report.constraints import (
    ConstraintError,
    constraints_from_manifest,
    parse_constraint,
    parse_constraints,
    parse_margin,
)
from workbench.report.gate import gate_failures


def test_same_quality_and_same_speed_is_no_clear_winner() -> None:
    choice = recommend(_card())
    assert choice.chosen is None
    assert choice.headline.startswith(f"no clear winner: {A} and {B} are statistically tied")
    assert [r.group for r in choice.ranked] == [1, 1]
    assert all("statistically tied" in r.reason for r in choice.ranked)


def test_tied_on_quality_the_faster_stack_is_chosen_and_says_why() -> None:
    choice = recommend(_card(b_speed=0.6))
    assert choice.chosen == B
    line = choice.headline
    assert line.startswith(f"choose {B}: F1 0.667, statistically tied with {A} +0.000 (the "
                           "same F1 on every question)")
    # The tie-break's test is at its share of the error budget (0.01): a 99% CI.
    assert f"vs {A}: faster: mean E2E -40% [-40%, -40%] (99% CI), median -40%" in line
    assert "faster on 120 of 120 questions" in line
    assert [r.stack for r in choice.ranked] == [B, A] and choice.ranked[1].reason.startswith(
        f"#2 {A}: F1 0.667, statistically tied with {B}")


def test_better_answers_win_over_speed_and_lower_groups_say_by_how_much() -> None:
    card = three_stacks(_fixed, c_speed=3.0)  # C answers best but three times slower
    choice = recommend(card)
    assert choice.chosen == C
    assert choice.ranked[0].stack == C and choice.ranked[0].group == 1
    assert choice.headline.startswith(f"choose {C}: F1 1.000, best: over {A} by +0.333")
    # The line reads the way the numbers point: C is the slow one.
    assert f"vs {A}: slower: mean E2E +" in choice.headline
    assert "faster on 0 of 120 questions" in choice.headline
    rest = {r.stack: r for r in choice.ranked[1:]}
    assert rest[A].group == rest[B].group == 2  # A and B: same answers, one tied group
    assert f"worse than {C} by -0.333" in rest[A].reason
    assert f"vs {C}: faster: mean E2E -" in rest[A].reason
    assert "faster on 120 of 120 questions" in rest[A].reason


def test_constraints_exclude_and_name_the_failed_bar() -> None:
    card = three_stacks(_fixed, c_speed=3.0)
    slowest_p95 = card.summaries[C].latency["e2e"].p95
    fastest_p95 = card.summaries[A].latency["e2e"].p95
    assert slowest_p95 is not None and fastest_p95 is not None
    bar = (slowest_p95 + fastest_p95) / 2
    choice = recommend(card, [parse_constraint(f"e2e.p95<={bar * 1000:.0f}ms")])
    # C (the best answers) is out; A and B answer and time alike, so nothing is chosen.
    assert choice.chosen is None
    assert choice.headline.startswith(f"no clear winner: {A} and {B} are statistically tied")
    [excluded] = [r for r in choice.ranked if not r.feasible]
    assert excluded.stack == C and excluded.rank is None
    assert excluded.reason.startswith(f"{C}: excluded, fails e2e.p95<=")
    assert "p95 E2E" in excluded.reason and "(n=120)" in excluded.reason
    nothing = recommend(card, [parse_constraint("f1>=1.5")])
    assert nothing.chosen is None and nothing.headline.startswith("no stack meets every")


def test_constraint_and_margin_parsing() -> None:
    c = parse_constraint("ttft.p50 < 500ms")
    assert (c.metric, c.stat, c.op, c.value) == ("ttft", "p50", "<", 0.5)
    assert parse_constraint("error_rate<=5%").value == pytest.approx(0.05)
    assert [x.metric for x in parse_constraints(["e2e.p95<=2s,f1>=0.3", "hit@5>=0.8"])] == [
        "e2e", "f1", "hit@5"]
    with pytest.raises(ConstraintError, match=r"cannot read constraint 'fast please'"):
        parse_constraint("fast please")
    with pytest.raises(ConstraintError, match="unknown statistic 'p42'"):
        parse_constraint("e2e.p42<=1s")
    m = parse_margin("e2e.p50=10%")
    assert (m.metric, m.stat, m.value, m.relative) == ("e2e", "p50", 10.0, True)
    manifest = {"choice": {"slo": ["e2e.p95<=2s"], "min": ["f1>=0.3"], "max_error_rate": 0.05}}
    assert [x.text for x in constraints_from_manifest(manifest)] == [
        "e2e.p95<=2s", "f1>=0.3", "error_rate<=5%"]


def test_gate_fails_on_a_significant_drop_beyond_the_margin_only() -> None:
    worse = three_stacks(c_answer=lambda i, a: "nothing useful")
    choice = recommend(worse)
    fails = gate_failures(worse, choice, [parse_margin("f1=0.02")], [C])
    assert len(fails) == 1 and fails[0].startswith(f"{C} fails the gate: Token F1 drop +0.")
    assert "margin 0.02 (f1=0.02); it is significantly beyond the margin" in fails[0]
    assert gate_failures(worse, choice, [parse_margin("f1=0.9")], [C]) == []
    assert gate_failures(worse, choice, [parse_margin("f1=0.02")], [B]) == []  # B is A's twin
    slower = three_stacks(c_speed=2.0)
    fails = gate_failures(slower, recommend(slower), [parse_margin("e2e.p50=10%")], [C])
    assert len(fails) == 1 and "fails the gate: median E2E ratio +" in fails[0]
    assert gate_failures(slower, recommend(slower), [parse_margin("e2e.p50=150%")], [C]) == []
    infeasible = recommend(slower, [parse_constraint("f1>=1.5")])
    assert gate_failures(slower, infeasible, [], [C]) == [infeasible.headline]
