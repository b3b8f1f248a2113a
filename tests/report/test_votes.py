"""Arena votes aggregated: tallies, Bradley-Terry ratings with bootstrap CIs, agreement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fakes.votes import simulate_votes
from workbench.report.stored import scorecard_for_run
from workbench.report.votes import (
    agreement,
    fit_bradley_terry,
    rate,
    summarize_votes,
    tally,
    votes_for_run,
)
from workbench.store import Store
from workbench.store.synthetic import STACKS, store_synthetic_run
from workbench.store.votes import Vote, all_votes

TRUTH = {"strong": 1150.0, "middle": 1000.0, "weak": 850.0}


def vote(a: str, b: str, v: str, question: str = "q?", f1: dict[str, float] | None = None
         ) -> Vote:
    return Vote(id=f"{a}{b}{v}{question}", run_id=None, question=question, stack_a=a,
                stack_b=b, vote=v, blind=True, detail={"token_f1": f1}, datetime_utc="")


def centred(truth: dict[str, float]) -> dict[str, float]:
    """The truth on the fit's scale: ratings average 1000 (the geometric mean strength)."""
    mean = float(np.mean(list(truth.values())))
    return {k: v - mean + 1000.0 for k, v in truth.items()}


def test_bradley_terry_recovers_a_known_ordering(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    # Ties independent of strength would shrink every gap: none in the truth here.
    simulate_votes(store, TRUTH, 900, seed=3, tie_rate=0.0)
    ratings = rate(all_votes(store), list(TRUTH), resamples=500, seed=1)
    assert [r.stack for r in ratings] == ["strong", "middle", "weak"]
    truth = centred(TRUTH)
    for r in ratings:
        assert r.ci_low < r.rating < r.ci_high
        assert r.ci_low <= truth[r.stack] <= r.ci_high, (r, truth[r.stack])
        assert abs(r.rating - truth[r.stack]) < 60
    assert sum(r.votes for r in ratings) == 2 * 900
    assert sum(r.wins for r in ratings) == sum(r.losses for r in ratings)


def test_bootstrap_cis_cover_the_truth_about_95_percent_of_the_time(tmp_path: Path) -> None:
    truth = centred(TRUTH)
    covered = total = 0
    for seed in range(16):
        store = Store(tmp_path / f"wb{seed}.db")
        simulate_votes(store, TRUTH, 300, seed=100 + seed, tie_rate=0.0)
        for r in rate(all_votes(store), list(TRUTH), resamples=300, seed=seed):
            covered += r.ci_low <= truth[r.stack] <= r.ci_high
            total += 1
    # 48 intervals at a nominal 95%: fewer than 40 covering would be a broken bootstrap.
    assert covered >= 40, f"{covered} of {total} CIs covered the truth"


def test_a_stack_that_never_lost_has_a_finite_rating() -> None:
    votes = [vote("a", "b", "A") for _ in range(5)]
    (top, bottom) = rate(votes, ["a", "b"], resamples=100)
    assert top.stack == "a" and np.isfinite(top.rating) and top.rating > bottom.rating
    assert (top.wins, top.ties, top.losses) == (5, 0, 0)


def test_mm_fit_matches_the_closed_form_for_two_stacks() -> None:
    # Two stacks, a beats b 30 times of 40, no prior: p = 3, rating gap 400*log10(3).
    wins = np.array([[0.0, 30.0], [10.0, 0.0]])
    a, b = fit_bradley_terry(wins, prior_ties=0.0)
    assert a - b == pytest.approx(400 * np.log10(3), abs=1e-6)
    assert (a + b) / 2 == pytest.approx(1000.0)


def test_tally_puts_each_pair_in_run_order() -> None:
    votes = [vote("b", "a", "A"), vote("a", "b", "A"), vote("a", "b", "B"),
             vote("b", "a", "tie"), vote("a", "c", "both_bad"), vote("a", "x", "A")]
    pairs = tally(votes, ["a", "b", "c"])
    assert [(p.stack_a, p.stack_b) for p in pairs] == [("a", "b"), ("a", "c")]
    ab = pairs[0]
    assert (ab.a_wins, ab.b_wins, ab.ties, ab.both_bad, ab.total) == (1, 2, 1, 0, 4)
    assert pairs[1].both_bad == 1


def test_agreement_with_f1_on_a_hand_built_case() -> None:
    run = {("one?", "a"): 0.9, ("one?", "b"): 0.1, ("two?", "a"): 0.2, ("two?", "b"): 0.8,
           ("three?", "a"): 0.5, ("three?", "b"): 0.5}
    votes = [
        vote("a", "b", "A", "One?"),        # a voted, a higher: agree (question case-folded)
        vote("b", "a", "B", "one? "),       # a voted (side B), a higher: agree
        vote("a", "b", "A", "two?"),        # a voted, b higher: disagree
        vote("a", "b", "B", "three?"),      # equal F1: left out
        vote("a", "b", "tie", "one?"),      # not decisive
        vote("a", "b", "A", "four?"),       # no F1 for this question
        # The arena's own F1 of the answers voted on wins over the run's: b had 0.7 there.
        vote("a", "b", "B", "one?", f1={"A": 0.1, "B": 0.7}),
    ]
    got = agreement(votes, ["a", "b"], "token F1", run, use_vote_f1=True)
    assert (got.decisive, got.compared, got.agree, got.score_ties, got.missing) == (6, 4, 3, 1, 1)
    assert got.share == pytest.approx(0.75)
    assert (got.from_votes, got.from_run) == (1, 3)
    assert "3 of 4" in got.text and "75%" in got.text
    # Without the arena's F1 the last vote is judged on the run's F1 (a 0.9 > b 0.1).
    plain = agreement(votes, ["a", "b"], "token F1", run)
    assert (plain.compared, plain.agree) == (4, 2)


def test_summary_of_a_stored_run_with_votes_on_its_questions(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = store_synthetic_run(store, 20, seed=5, stacks=3)
    card = scorecard_for_run(store, run_id, semantic=False)
    texts = [q.question for q in store.questions(run_id)]
    strengths = {STACKS["A"]: 950.0, STACKS["B"]: 950.0, STACKS["C"]: 1150.0}
    simulate_votes(store, strengths, 120, seed=2, questions=texts)
    simulate_votes(store, {STACKS["A"]: 1000.0, "other-stack": 1000.0}, 10, seed=4)
    summary = votes_for_run(store, run_id, card)
    assert summary.n_votes == 120 and summary.n_on_run_questions == 120
    assert summary.n_blind == 60
    assert summary.ratings[0].stack == STACKS["C"]
    assert len(summary.pairs) == 3 and sum(p.total for p in summary.pairs) == 120
    f1, judge = summary.agreement
    assert f1.against == "token F1" and f1.compared > 0 and f1.from_run == f1.compared
    assert judge.compared == 0 and "no LLM judge scores" in judge.text


def test_no_votes_gives_an_empty_summary() -> None:
    summary = summarize_votes([], ["a", "b"])
    assert summary.n_votes == 0 and summary.ratings == [] and summary.pairs == []
    assert summary.agreement[0].text == "no decisive vote to compare with token F1"


def test_agreement_with_the_judge_where_it_ran(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = store_synthetic_run(store, 6, seed=5)
    card = scorecard_for_run(store, run_id, semantic=False)
    a, b = card.stacks
    # The judge finds only b correct on every question: votes for b agree, for a do not.
    rows = [r.model_copy(update={"scores": {
        a: {**r.scores.get(a, {}), "judge_correct": 0.0},
        b: {**r.scores.get(b, {}), "judge_correct": 1.0}}}) for r in card.rows]
    judged = card.model_copy(update={"rows": rows})
    texts = [r.question for r in card.rows]
    votes = [vote(a, b, "B", texts[0]), vote(b, a, "A", texts[1]), vote(a, b, "A", texts[2]),
             vote(a, b, "tie", texts[3])]
    judge = summarize_votes(votes, card.stacks, judged, resamples=50).agreement[1]
    assert judge.against == "the LLM judge"
    assert (judge.decisive, judge.compared, judge.agree) == (3, 3, 2)
    assert "2 of 3" in judge.text
