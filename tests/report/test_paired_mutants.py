"""Tests written against mutants of `workbench.report.paired` that survived `make mutants`
(mutmut): each pins a number, a word or an edge the other tests left loose, against a value
worked out independently here (a closed form, numpy/scipy, or a hand count)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from tests.report.synthetic import question, record
from workbench.report.paired import score
from workbench.scoring.stats import PairedBootstrap

A, B, C = "stack-a", "stack-b", "stack-c"


def test_data_warnings_notes_and_power_word_for_word() -> None:
    """Six questions: a answers q0-q3, b q0-q2 (q1 and q2 half right), c nothing; one
    response names no question of the set, one comes from a stack not in the run."""
    qs = [question(f"q{i}", [f"gold {i}"]) for i in range(6)]
    recs = [record(f"q{i}", "A", f"gold {i}") for i in range(4)]
    recs += [record(f"q{i}", "B", "gold" if i else f"gold {i}", start=200.0) for i in range(3)]
    recs += [record("zz", "A", "x"), record("q0", "X", "x")]
    s = score(qs, recs, stacks=[A, B, C], baseline=A, semantic=False, judge=None,
              embedder=None, resamples=100, seed=1)
    assert s.warnings == [
        "stack-c has no responses: nothing to compare",
        "1 question(s) answered by other stacks but not by stack-b: left out of stack-b's "
        "paired comparisons",
        "2 of 6 question(s) have no response yet",
        "1 response(s) name questions not in the eval set: ignored",
        "responses from stacks not in the run (stack-x): ignored"]
    assert s.notes == ["p95 E2E is not compared: 3 successful pairs, and a p95 needs at least "
                       "200 to be stable (the per-stack p95 below is descriptive)"]
    assert (s.n_pairs, s.n_unpaired) == (0, 4)
    # Power: Holm's strictest level over 2 primary metrics x 2 candidates; the SE is the
    # spread of the bootstrap means of b - a (F1 of "gold" against "gold 1" is 2/3).
    alpha = 0.05 / 4
    d = np.array([0.0, -1 / 3, -1 / 3])
    se = float(np.std(PairedBootstrap(resamples=100, seed=1).mean_draws(d), ddof=1))
    mde = (sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(0.8)) * se
    pb, pc = s.power
    assert (pb.candidate, pb.n_pairs, pb.alpha) == (B, 3, alpha)
    assert pb.mde == pytest.approx(mde, rel=1e-6)
    assert pb.text == (f"with 3 pairs, differences in F1 under ±{mde:.3f} are not reliably "
                       "detectable (80% power, two-sided alpha 0.0125)")
    assert (pc.candidate, pc.n_pairs, pc.mde) == (C, 0, None)
    assert pc.text == "with 0 pairs the smallest detectable F1 difference cannot be estimated"
    wins = s.wins_f1[0]
    assert (wins.baseline_wins, wins.candidate_wins, wins.ties, wins.errors) == (2, 0, 1, 0)
    assert [r.question_id for r in s.rows] == ["q0", "q1", "q2", "q3"]
    assert s.rows[3].outcome == {B: "unpaired", C: "unpaired"}
    assert s.rows[1].outcome[B] == A and s.rows[0].outcome[B] == "tie"


def test_few_shared_questions_are_warned_about() -> None:
    qs = [question(f"q{i}") for i in range(8)]
    recs = [record(q.id, side, "gold", start=100.0 if side == "A" else 200.0)
            for q in qs for side in "AB"]
    s = score(qs, recs, stacks=[A, B], baseline=A, semantic=False, judge=None, embedder=None,
              resamples=50, seed=1)
    assert s.warnings == ["only 8 questions answered by every stack: confidence intervals "
                          "are wide"]
    assert (s.n_pairs, s.n_unpaired, s.holm_family) == (8, 0, 2)


def test_a_stack_with_no_responses_compares_as_nothing_not_as_nan() -> None:
    """stack-c answered nothing: each of its comparisons has no pairs, no means and no
    difference (None, never NaN), no test, and is not significant."""
    qs = [question(f"q{i}") for i in range(6)]
    recs = [record(q.id, side, "gold") for q in qs for side in "AB"]
    s = score(qs, recs, stacks=[A, B, C], baseline=A, semantic=False, judge=None,
              embedder=None, resamples=50, seed=1)
    of_c = [c for c in s.comparisons if c.candidate == C and c.statistic != "ratio"]
    assert {c.metric for c in of_c} >= {"f1", "exact_match", "error_rate"}
    for c in of_c:
        assert (c.n_pairs, c.baseline_value, c.candidate_value) == (0, None, None)
        assert (c.diff, c.ci_low, c.ci_high, c.p_value) == (None, None, None, None)
        assert (c.significant, c.better) == (False, None)
    f1_b = next(c for c in s.comparisons if c.candidate == B and c.metric == "f1")
    assert (f1_b.n_pairs, f1_b.baseline_value, f1_b.candidate_value, f1_b.diff) == \
        (6, 1.0, 1.0, 0.0)
