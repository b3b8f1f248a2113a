"""Arena votes aggregated: tallies, Bradley-Terry ratings with ties and question-bootstrap
CIs (checked against an independent maximum-likelihood fit), agreement with its interval,
and which votes are used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from statsmodels.stats.proportion import proportion_confint

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
    # By default only the 60 blind votes are rated, and the summary says so.
    assert summary.n_used == 60 and not summary.pooled
    assert sum(r.votes for r in summary.ratings) == 2 * 60
    assert "the 60 blind votes on this run's questions (60 other votes left out" in \
        summary.method
    assert summary.ratings[0].stack == STACKS["C"]
    assert len(summary.pairs) == 3 and sum(p.total for p in summary.pairs) == 60
    pooled = votes_for_run(store, run_id, card, pooled=True)
    assert pooled.n_used == 120 and sum(p.total for p in pooled.pairs) == 120
    assert "all 120 votes between these stacks, pooled" in pooled.method
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


def _davidson_mle(wins: np.ndarray, ties: np.ndarray) -> tuple[np.ndarray, float]:
    """An independent fit: Davidson's log-likelihood written out pair by pair and maximised
    by scipy's BFGS over (log strengths of stacks 2..n, log nu)."""
    n = wins.shape[0]

    def nll(x: np.ndarray) -> float:
        p = np.exp(np.concatenate([[0.0], x[:n - 1]]))
        nu = np.exp(x[-1])
        total = 0.0
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                d = p[i] + p[j] + nu * np.sqrt(p[i] * p[j])
                total += wins[i, j] * np.log(p[i] / d)
                if i < j:
                    total += ties[i, j] * np.log(nu * np.sqrt(p[i] * p[j]) / d)
        return -total

    res = minimize(nll, np.zeros(n), method="BFGS", options={"gtol": 1e-10})
    log_p = np.concatenate([[0.0], res.x[:n - 1]])
    return 1000 + 400 * (log_p - log_p.mean()) / np.log(10), float(np.exp(res.x[-1]))


def test_ties_fit_equals_an_independent_maximum_likelihood() -> None:
    from workbench.report.bradley_terry import fit_davidson

    rng = np.random.default_rng(11)
    wins = rng.integers(0, 20, (4, 4)).astype(float)
    np.fill_diagonal(wins, 0)
    ties = np.triu(rng.integers(0, 9, (4, 4)).astype(float), 1)
    ties += ties.T
    ours, nu = fit_davidson(wins, ties, prior_ties=0.0)
    ref, ref_nu = _davidson_mle(wins, ties)
    assert ours == pytest.approx(ref, abs=1e-3)
    assert nu == pytest.approx(ref_nu, rel=1e-5)


def test_rate_on_votes_equals_the_likelihood_of_the_votes() -> None:
    """From stored-vote shapes to ratings: "both bad" is a tie, a tie is a tie (not a win for
    either side), and the prior is one virtual game per pair split as half-wins."""
    votes = ([vote("a", "b", "A", f"q{i}") for i in range(9)]
             + [vote("b", "a", "A", f"r{i}") for i in range(3)]
             + [vote("a", "b", "tie", f"s{i}") for i in range(4)]
             + [vote("b", "c", "both_bad", f"t{i}") for i in range(5)]
             + [vote("c", "b", "A", f"u{i}") for i in range(2)]
             + [vote("a", "c", "B", f"v{i}") for i in range(4)]
             + [vote("a", "c", "A", f"w{i}") for i in range(6)])
    got = {r.stack: r for r in rate(votes, ["a", "b", "c"], resamples=200)}
    wins = np.array([[0, 9, 6], [3, 0, 0], [4, 2, 0]], dtype=float) + 0.5 * (1 - np.eye(3))
    ties = np.array([[0, 4, 0], [4, 0, 5], [0, 5, 0]], dtype=float)
    ref, _ = _davidson_mle(wins, ties)
    assert [got[s].rating for s in "abc"] == pytest.approx(list(ref), abs=1e-3)
    assert (got["b"].wins, got["b"].ties, got["b"].losses) == (3, 9, 11)
    for r in got.values():
        assert r.ci_low < r.rating < r.ci_high


def test_ratings_with_ties_are_not_shrunk() -> None:
    """300 votes a simulation with Davidson ties (nu = 1): half-wins shrank the strong-weak
    gap by ~50 Elo; the tie model recovers it (mean over 12 runs within 25 Elo of 300)."""
    import math
    import random

    truth = {"strong": 1150.0, "middle": 1000.0, "weak": 850.0}
    gaps = []
    for seed in range(12):
        rng = random.Random(seed)
        votes = []
        for i in range(300):
            a, b = rng.sample(list(truth), 2)
            pa, pb = 10 ** (truth[a] / 400), 10 ** (truth[b] / 400)
            d = pa + pb + math.sqrt(pa * pb)
            r = rng.random()
            v = "A" if r < pa / d else "B" if r < (pa + pb) / d else "tie"
            votes.append(vote(a, b, v, f"q{i}"))
        by = {r.stack: r.rating for r in rate(votes, list(truth), resamples=50)}
        gaps.append(by["strong"] - by["weak"])
    assert abs(float(np.mean(gaps)) - 300.0) < 25.0


def test_agreement_interval_is_wilson() -> None:
    votes = [vote("a", "b", "A", f"q{i}") for i in range(10)]
    run = {(f"q{i}", "a"): 1.0 if i < 7 else 0.0 for i in range(10)}
    run |= {(f"q{i}", "b"): 0.5 for i in range(10)}
    got = agreement(votes, ["a", "b"], "token F1", run)
    low, high = proportion_confint(7, 10, alpha=0.05, method="wilson")
    assert (got.agree, got.compared) == (7, 10)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high))
    assert "95% CI 40%-89%" in got.text
