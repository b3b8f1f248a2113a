"""The choice, the constraints and the gate read the load pass from the same card: a stack
that cannot hold the target is excluded with the level and cause; `capacity>=Xrps` and
`cost_per_correct=10%` work from `workbench choose`; a run without a load block says the
choice was made at concurrency 1."""

from __future__ import annotations

import pytest

from tests.report.load_cards import A, B, make_card, with_load
from workbench.report.choice import recommend
from workbench.report.constraints import constraints_from_manifest, parse_constraints, parse_margin
from workbench.report.gate import GateError, check_margin
from workbench.report.load import load_note
from workbench.report.models import ScoreCard


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> ScoreCard:
    return make_card(tmp_path_factory)


def test_a_stack_that_cannot_hold_the_target_is_excluded_with_where_and_why(
        card: ScoreCard) -> None:
    loaded = with_load(card)
    manifest = {"load": {"concurrency": [1, 2], "target": {"rate": 2.0, "concurrency": None}}}
    constraints = constraints_from_manifest(manifest)
    assert [c.text for c in constraints] == ["capacity>=2rps"]
    choice = recommend(loaded, constraints)
    excluded = next(r for r in choice.ranked if r.stack == B)
    assert not excluded.feasible and choice.chosen != B
    assert "capacity>=2rps" in excluded.reason
    assert "cannot hold the target 2 rps: broke at c=2, queueing" in excluded.reason
    assert next(r for r in choice.ranked if r.stack == A).feasible
    # The same from the command line, in the user's words.
    assert recommend(loaded, parse_constraints(["capacity>=2rps"])).ranked[-1].stack == B


def test_without_a_load_block_the_choice_says_concurrency_1(card: ScoreCard) -> None:
    assert card.load is None and load_note(card.load).startswith("chosen at concurrency 1")
    assert constraints_from_manifest({"choice": {"slo": ["e2e.p95<=5s"]}})[0].metric == "e2e"
    choice = recommend(card, parse_constraints(["capacity>=2rps"]))
    assert not any(r.feasible for r in choice.ranked)
    assert "the run had no load pass" in choice.ranked[0].reason


def test_gate_on_cost_per_correct_answer(card: ScoreCard) -> None:
    margin = parse_margin("cost_per_correct=10%")
    # B at its capacity (c=1: 50 correct for 110 CPU-s) against A at c=2 (100 for 200 CPU-s):
    # 2.2 against 2.0 CPU-s per correct answer, +10%, but 150 answers cannot show it.
    check = check_margin(with_load(card), B, margin)
    assert abs(check.worse - 0.10) < 1e-9 and check.low < 0.10 < check.high
    assert check.state == "inconclusive"
    # Four times dearer: beyond the margin on the interval's lower bound.
    dear = check_margin(with_load(card, b_cpu=400.0), B, margin)
    assert dear.state == "fail" and dear.low > 0.10 and "fails the gate" in dear.text
    with pytest.raises(GateError, match="had no load pass"):
        check_margin(card, B, margin)
