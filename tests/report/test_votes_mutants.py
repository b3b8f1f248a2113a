"""Tests written against mutants of `workbench.report.votes` that survived `make mutants`
(mutmut): each pins a number, a word or an edge the other tests left loose, against a value
worked out independently here (a closed form, numpy/scipy, or a hand count)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from tests.report.synthetic import question, record
from tests.report.test_votes import vote
from workbench.report.bradley_terry import (
    battle_tables,
    bootstrap_ratings,
    fit_davidson,
    tie_probability,
)
from workbench.report.models import ScoreCard
from workbench.report.scorecard import build_scorecard
from workbench.report.votes import (
    PairTally,
    VoteRating,
    agreement,
    fit_bradley_terry,
    in_scope,
    rate,
    rating_text,
    record_text,
    run_scores,
    summarize_votes,
    tally,
    votes_lines,
    votes_table_rows,
)
from workbench.scoring.stats import bca_levels, wilson
from workbench.store.votes import Vote

A, B = "stack-a", "stack-b"


def _vote(a: str, b: str, v: str, q: str, *, blind: bool = True, run_id: str | None = None
          ) -> Vote:
    return Vote(id=f"{a}{b}{v}{q}{blind}{run_id}", run_id=run_id, question=q, stack_a=a,
                stack_b=b, vote=v, blind=blind, detail={}, datetime_utc="")


def _card() -> ScoreCard:
    """Two stacks on four questions: a right on q0-q2, b right on q0 and q3."""
    questions = [question(f"q{i}", [f"gold {i}"]) for i in range(4)]
    records = [record(q.id, "A", f"gold {i}" if i < 3 else "no") for i, q in
               enumerate(questions)]
    records += [record(q.id, "B", f"gold {i}" if i in (0, 3) else "no", start=200.0)
                for i, q in enumerate(questions)]
    return build_scorecard(questions, records, semantic=False, resamples=100)


def test_the_votes_block_word_for_word() -> None:
    card = _card()
    qs = [r.question for r in card.rows]
    votes = [_vote(A, B, "A", qs[1]), _vote(B, A, "B", qs[2]), _vote(A, B, "A", qs[3]),
             _vote(B, A, "A", qs[3]), _vote(A, B, "tie", qs[0]), _vote(A, B, "both_bad", qs[3]),
             _vote(A, B, "A", qs[0]),                       # equal F1 (both right)
             _vote(A, B, "A", "Another question?"),          # not one of the run's
             _vote(A, B, "A", qs[1], blind=False)]           # open vote
    s = summarize_votes(votes, [A, B], card, resamples=60, seed=7)
    assert (s.n_votes, s.n_blind, s.n_on_run_questions, s.n_used) == (9, 8, 8, 7)
    assert s.pairs == [PairTally(stack_a=A, stack_b=B, a_wins=4, b_wins=1, ties=1, both_bad=1)]
    f1, judge = s.agreement
    assert (f1.decisive, f1.compared, f1.agree, f1.score_ties, f1.missing) == (5, 4, 3, 1, 0)
    assert (f1.from_votes, f1.from_run) == (0, 4)
    low, high = proportion_confint(3, 4, alpha=0.05, method="wilson")
    assert (f1.ci_low, f1.ci_high) == pytest.approx((low, high))
    assert votes_lines(s) == [
        "9 arena votes between this run's stacks (8 blind; 8 on this run's questions); rated: "
        "the 7 blind votes on this run's questions (2 other votes left out; pooling them is "
        "an option).",
        "stack-a vs stack-b: stack-a better 4, stack-b better 1, tie 1, both bad 1",
        f"Votes agree with token F1 on 3 of 4 decisive votes where it differed (75%, 95% CI "
        f"{low:.0%}-{high:.0%}); 1 with equal token F1 left out.",
        "No LLM judge scores for this run (workbench report --judge-url ... --judge-model ... "
        "adds them).",
        "Ratings from the 7 blind votes on this run's questions (2 other votes left out; "
        "pooling them is an option). Bradley-Terry with ties (Davidson's model; 'both bad' is "
        "a tie) on the Elo scale (1000 = mean strength), a prior of 1 virtual game per pair "
        "(half a win each way); 95% BCa CIs from 60 bootstrap resamples of the questions "
        "(seed 7); agreement with 95% Wilson intervals."]
    assert (judge.against, judge.decisive, judge.share) == ("the LLM judge", 0, None)
    # Ratings: Davidson's fit of the six votes with the prior; records per stack.
    wins = np.array([[0, 4], [1, 0]], dtype=float)
    ties = np.array([[0, 2], [2, 0]], dtype=float)
    ref, nu = fit_davidson(wins, ties)
    by = {r.stack: r for r in s.ratings}
    assert [r.stack for r in s.ratings] == [A, B]
    assert (by[A].rating, by[B].rating) == pytest.approx(tuple(ref))
    assert s.tie_probability == pytest.approx(tie_probability(float(nu)))
    assert (by[A].wins, by[A].ties, by[A].losses, by[A].votes) == (4, 2, 1, 7)
    assert (by[B].wins, by[B].ties, by[B].losses, by[B].votes) == (1, 2, 4, 7)
    pooled = summarize_votes(votes, [A, B], card, resamples=60, seed=7, pooled=True)
    assert pooled.n_used == 9 and pooled.pooled
    assert pooled.scope == ("all 9 votes between these stacks, pooled (open votes and other "
                            "runs' included)")


def test_the_ratings_ci_is_the_bca_quantile_of_the_question_bootstrap() -> None:
    qs = [f"q{i}" for i in range(8)]
    votes = ([vote("a", "b", "A", q) for q in qs[:5]] + [vote("b", "a", "A", q) for q in qs[5:7]]
             + [vote("a", "c", "tie", qs[7]), vote("c", "b", "A", qs[0])])
    got = {r.stack: r for r in rate(votes, ["a", "b", "c", "d"], resamples=120, seed=5)}
    assert set(got) == {"a", "b", "c"}  # d never voted on: no rating
    battles = [(["a", "b", "c"].index(v.stack_a), ["a", "b", "c"].index(v.stack_b),
                {"both_bad": "tie"}.get(v.vote, v.vote), v.question) for v in votes]
    _, w, t = battle_tables(battles, 4)
    rating, _ = fit_davidson(w.sum(axis=0), t.sum(axis=0))
    boot = bootstrap_ratings(w, t, resamples=120, seed=5)
    jack, _ = fit_davidson(w.sum(axis=0)[None] - w, t.sum(axis=0)[None] - t)
    for i, s in enumerate("abc"):
        draws = boot[:, i][np.isfinite(boot[:, i])]
        lo, hi = bca_levels(float(rating[i]), draws, jack[:, i])
        assert got[s].rating == pytest.approx(float(rating[i]))
        assert (got[s].ci_low, got[s].ci_high) == pytest.approx(
            tuple(np.quantile(draws, [lo, hi])))
    assert (got["a"].wins, got["a"].ties, got["a"].losses) == (5, 1, 2)
    best_first = sorted("abc", key=lambda s: -float(rating["abc".index(s)]))
    assert [r.stack for r in rate(votes, ["a", "b", "c"], resamples=50)] == best_first
    assert best_first == ["c", "a", "b"]


def test_two_questions_have_no_jackknife_and_no_votes_no_ratings() -> None:
    votes = [vote("a", "b", "A", "q0"), vote("a", "b", "A", "q1")]
    got = rate(votes, ["a", "b"], resamples=80, seed=2)
    _, w, t = battle_tables([(0, 1, "A", "q0"), (0, 1, "A", "q1")], 2)
    rating, _ = fit_davidson(w.sum(axis=0), t.sum(axis=0))
    boot = bootstrap_ratings(w, t, resamples=80, seed=2)
    draws = boot[:, 0][np.isfinite(boot[:, 0])]
    lo, hi = bca_levels(float(rating[0]), draws, None)
    assert (got[0].ci_low, got[0].ci_high) == pytest.approx(tuple(np.quantile(draws, [lo, hi])))
    assert rate([], ["a", "b"]) == []
    assert rate([vote("a", "a", "A")], ["a", "b"]) == []
    assert rate([vote("a", "x", "A")], ["a", "b"]) == []


def test_fit_bradley_terry_is_davidson_without_ties() -> None:
    wins = np.array([[0.0, 7.0, 2.0], [3.0, 0.0, 5.0], [1.0, 4.0, 0.0]])
    ref, _ = fit_davidson(wins, np.zeros_like(wins))
    assert fit_bradley_terry(wins) == pytest.approx(ref)
    no_prior, _ = fit_davidson(wins, np.zeros_like(wins), prior_ties=0.0)
    assert fit_bradley_terry(wins, prior_ties=0.0) == pytest.approx(no_prior)


def test_wilson_and_its_empty_case() -> None:
    # The votes' agreement uses the one Wilson interval of the package (scoring.stats).
    assert math.isnan(wilson(0, 0).low) and math.isnan(wilson(0, 0).high)
    low, high = proportion_confint(3, 11, alpha=0.05, method="wilson")
    got = wilson(3, 11)
    assert (got.low, got.high) == pytest.approx((low, high))


def test_run_scores_keys_by_normalised_question_and_skips_missing() -> None:
    card = _card()
    rows = [r.model_copy(update={"question": "  Question   Q0?  "}) if r.question_id == "q0"
            else r for r in card.rows]
    rows[1].scores[B]["f1"] = None
    card = card.model_copy(update={"rows": rows})
    got = run_scores(card, "f1")
    assert got[("question q0?", A)] == 1.0 and got[("question q0?", B)] == 1.0
    assert ("question q1?", B) not in got and got[("question q1?", A)] == 1.0
    assert len(got) == 7


def test_agreement_names_what_it_left_out_and_reads_either_side_of_the_arenas_f1() -> None:
    run = {("q0", "a"): 1.0, ("q0", "b"): 1.0, ("q7", "a"): 0.4,
           ("q8", "a"): 0.5, ("q8", "b"): 0.5}
    votes = [vote("a", "b", "A", "q0"),                            # equal F1: a score tie
             vote("a", "b", "B", "q1"),                            # no F1 at all: missing
             vote("a", "b", "B", "q2", f1={"A": 0.2, "B": 0.9}),   # b (side B) 0.9: agree
             vote("b", "a", "B", "q3", f1={"A": 0.1, "B": 0.3}),   # a (side B) 0.3: agree
             vote("a", "c", "A", "q0"), vote("c", "a", "A", "q0"),  # c is not compared
             vote("a", "b", "A", "q4", f1={"A": 0.5, "B": None}),  # type: ignore[dict-item]
             vote("a", "b", "A", "q5", f1={"A": 0.8, "B": 0.4}),   # a (side A) 0.8: agree
             vote("b", "a", "A", "q6", f1={"A": 0.1, "B": 0.6}),   # b (side A) 0.1: disagree
             vote("a", "b", "A", "q7"),                            # only a has F1: missing
             vote("b", "a", "A", "q8")]                            # equal F1 again
    got = agreement(votes, ["a", "b"], "token F1", run, use_vote_f1=True)
    assert (got.decisive, got.compared, got.agree, got.score_ties, got.missing) == (9, 4, 3, 2, 3)
    assert (got.from_votes, got.from_run, got.share) == (4, 0, 0.75)
    low, high = proportion_confint(3, 4, alpha=0.05, method="wilson")
    assert got.text == (f"votes agree with token F1 on 3 of 4 decisive votes where it differed "
                        f"(75%, 95% CI {low:.0%}-{high:.0%}); 2 with equal token F1, 3 without "
                        "token F1 for both stacks left out")
    none = agreement([vote("a", "b", "tie")], ["a", "b"], "the LLM judge", run)
    assert none.text == "no decisive vote to compare with the LLM judge"
    assert (none.share, none.ci_low, none.ci_high) == (None, None, None)


def test_in_scope_needs_blind_own_question_and_own_or_no_run() -> None:
    v = _vote("a", "b", "A", "  Question  X? ", run_id="r1")
    assert in_scope(v, {"question x?"}, "r1") and in_scope(v, None, None)
    assert in_scope(v, None, "r1") and not in_scope(v, None, "r2")
    assert not in_scope(v, {"question y?"}, "r1")
    assert not in_scope(_vote("a", "b", "A", "q", blind=False), None, None)
    assert in_scope(_vote("a", "b", "A", "q"), {"q"}, "r9")  # stored with no run


def test_without_a_card_the_scope_is_any_question_and_lists_run_questions_when_given() -> None:
    votes = [_vote("a", "b", "A", "q0"), _vote("a", "b", "B", "q1"),
             _vote("a", "b", "A", "q2", blind=False), _vote("a", "a", "A", "q0"),
             _vote("a", "x", "A", "q0")]
    s = summarize_votes(votes, ["a", "b"], resamples=30)
    assert (s.n_votes, s.n_used, s.n_on_run_questions) == (3, 2, 0)
    assert s.scope == ("the 2 blind votes on any question (1 other votes left out; pooling "
                       "them is an option)")
    given = summarize_votes(votes, ["a", "b"], resamples=30, run_questions=["Q0"])
    assert (given.n_used, given.n_on_run_questions) == (1, 1)
    assert given.scope.startswith("the 1 blind votes on this run's questions")
    assert (s.resamples, s.seed) == (30, 20240521)


def test_votes_lines_with_no_vote_and_with_none_in_scope() -> None:
    empty = summarize_votes([], ["a", "b"])
    assert votes_lines(empty) == ["No arena votes between this run's stacks yet (the web "
                                  "UI's Arena tab records them)."]
    open_only = summarize_votes([_vote("a", "b", "A", "q0", blind=False)], ["a", "b"],
                                resamples=30)
    lines = votes_lines(open_only)
    assert lines[1] == ("No vote in scope yet: deal this run's questions in the Arena (blind), "
                        "or pool every vote.")


def test_table_rows_and_texts() -> None:
    card = _card()
    r = VoteRating(stack=A, rating=1043.4, ci_low=998.2, ci_high=1090.6, votes=20, wins=12,
                   ties=5, losses=3)
    assert rating_text(r) == "1043 [998, 1091]" and record_text(r) == "12-5-3"
    s = summarize_votes([_vote(A, B, "A", "q")], [A, B], resamples=30)
    s = s.model_copy(update={"ratings": [r, r.model_copy(update={"stack": "other"})]})
    f1 = card.summaries[A].quality["f1"]
    assert f1 is not None
    assert votes_table_rows(s, card) == [(A, f"{f1:.3f}", "1043 [998, 1091]", "12-5-3", "20"),
                                         ("other", "n/a", "1043 [998, 1091]", "12-5-3", "20")]
    assert votes_table_rows(s)[0][1] == "n/a"
    card.summaries[A].quality["f1"] = None
    assert votes_table_rows(s, card)[0][1] == "n/a"


def test_tally_lists_pairs_in_run_order_not_by_name_nor_by_first_vote() -> None:
    votes = [vote("a", "m", "A"), vote("z", "m", "A"), vote("a", "z", "B")]
    assert [(p.stack_a, p.stack_b) for p in tally(votes, ["z", "a", "m"])] == [
        ("z", "a"), ("z", "m"), ("a", "m")]
    [za] = [p for p in tally(votes, ["z", "a", "m"]) if p.stack_b == "a"]
    assert (za.a_wins, za.b_wins) == (1, 0)  # side B of "a vs z" was z


def test_tally_counts_both_bad_apart_from_ties_and_skips_self_votes() -> None:
    votes = [vote("b", "a", "B"), vote("b", "a", "both_bad"), vote("a", "b", "tie"),
             vote("a", "a", "A"), vote("b", "a", "A")]
    [p] = tally(votes, ["a", "b"])
    assert (p.stack_a, p.a_wins, p.b_wins, p.ties, p.both_bad, p.total) == ("a", 1, 1, 1, 1, 4)


def test_votes_for_a_stored_run_read_its_own_questions_without_a_card(tmp_path: Path) -> None:
    from workbench.report.votes import votes_for_run
    from workbench.store import Store
    from workbench.store.synthetic import store_synthetic_run

    store = Store(tmp_path / "wb.db")
    run_id = store_synthetic_run(store, 4, seed=5)
    a, b = (e["name"] for e in store.run_stacks(run_id))
    texts = [q.question for q in store.questions(run_id)]
    store.add_vote(question=texts[0], stack_a=a, stack_b=b, vote="A", blind=True,
                   run_id=run_id, detail={})
    store.add_vote(question="Not a question of the run?", stack_a=a, stack_b=b, vote="B",
                   blind=True, run_id=None, detail={})
    s = votes_for_run(store, run_id)
    assert (s.stacks, s.n_votes, s.n_on_run_questions, s.n_used) == ([a, b], 2, 1, 1)
    assert s.scope == ("the 1 blind votes on this run's questions (1 other votes left out; "
                       "pooling them is an option)")


def test_summary_keeps_the_cards_run_reads_the_arenas_f1_and_an_empty_judge_line() -> None:
    from workbench.report.votes import Agreement

    card = _card().model_copy(update={"run_id": "r1"})
    qs = [r.question for r in card.rows]
    arena = Vote(id="f1", run_id="r1", question=qs[1], stack_a=A, stack_b=B, vote="B",
                 blind=True, detail={"token_f1": {"A": 0.2, "B": 0.9}}, datetime_utc="")
    votes = [arena, _vote(A, B, "A", qs[2], run_id="r2"), _vote(A, B, "A", qs[2])]
    s = summarize_votes(votes, [A, B], card, resamples=30)
    assert s.n_used == 2  # the vote stored with another run is left out
    f1, judge = s.agreement
    # The arena's own F1 says b (0.9 > 0.2), where the run's F1 says a: it agrees.
    assert (f1.compared, f1.agree, f1.from_votes, f1.from_run) == (2, 2, 1, 1)
    assert judge == Agreement(
        against="the LLM judge", decisive=0, compared=0, agree=0, share=None, score_ties=0,
        missing=0, text="no LLM judge scores for this run (workbench report --judge-url ... "
                        "--judge-model ... adds them)")


def test_three_questions_between_two_stacks_have_a_jackknife() -> None:
    votes = [vote("a", "b", "A", "q0"), vote("a", "b", "A", "q0"), vote("b", "a", "A", "q0"),
             vote("a", "b", "B", "q1"), vote("a", "b", "tie", "q2"), vote("a", "b", "A", "q2")]
    got = {r.stack: r for r in rate(votes, ["a", "b"], resamples=150, seed=4)}
    battles = [(0, 1, "A", "q0"), (0, 1, "A", "q0"), (1, 0, "A", "q0"), (0, 1, "B", "q1"),
               (0, 1, "tie", "q2"), (0, 1, "A", "q2")]
    _, w, t = battle_tables(battles, 2)
    rating, _ = fit_davidson(w.sum(axis=0), t.sum(axis=0))
    boot = bootstrap_ratings(w, t, resamples=150, seed=4)
    jack, _ = fit_davidson(w.sum(axis=0)[None] - w, t.sum(axis=0)[None] - t)
    draws = boot[:, 0][np.isfinite(boot[:, 0])]
    with_jack = tuple(np.quantile(draws, bca_levels(float(rating[0]), draws, jack[:, 0])))
    without = tuple(np.quantile(draws, bca_levels(float(rating[0]), draws, None)))
    assert (got["a"].ci_low, got["a"].ci_high) == pytest.approx(with_jack)
    assert with_jack != pytest.approx(without)  # the acceleration matters here


def test_every_stack_voted_on_is_rated_wherever_it_stands_in_the_run() -> None:
    votes = [vote("a", "b", "A", "q0"), vote("c", "a", "A", "q1"), vote("b", "c", "A", "q2")]
    # c won once and lost once (no tie); d, first in run order, was never voted on.
    got = rate(votes, ["d", "a", "b", "c"], resamples=40)
    assert sorted(r.stack for r in got) == ["a", "b", "c"]
    c = next(r for r in got if r.stack == "c")
    assert (c.wins, c.ties, c.losses, c.votes) == (1, 0, 1, 2)
