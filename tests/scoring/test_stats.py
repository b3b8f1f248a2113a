"""Paired bootstrap, McNemar and win/tie/loss on synthetic data with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.scoring.stats import PairedBootstrap, mcnemar, outcomes, win_tie_loss


def test_counts_are_resamples_of_n() -> None:
    counts = PairedBootstrap(resamples=300).counts(50)
    assert counts.shape == (50, 300)
    assert (counts.sum(axis=0) == 50).all()


def test_percentiles_equal_numpy_on_each_resample() -> None:
    boot = PairedBootstrap(resamples=50)
    values = np.random.default_rng(1).exponential(1.0, 101)
    got = boot.percentiles(values, (50.0, 95.0, 99.0))
    counts = boot.counts(values.size).astype(int)
    for r in range(50):
        resample = np.repeat(values, counts[:, r])
        assert got[r] == pytest.approx(np.percentile(resample, [50, 95, 99]))


def test_mean_diff_ci_covers_known_difference() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(0.5, 0.2, 400)
    b = a + 0.1 + rng.normal(0, 0.1, 400)
    iv = PairedBootstrap().mean_diff(a, b)
    assert iv.low < 0.1 < iv.high
    assert iv.significant and iv.low > 0


def test_zero_difference_ci_includes_zero() -> None:
    rng = np.random.default_rng(6)
    a = rng.normal(0.5, 0.2, 400)
    b = a + rng.normal(0, 0.1, 400)  # no true difference
    iv = PairedBootstrap().mean_diff(a, b)
    assert iv.low < 0 < iv.high and not iv.significant
    same = PairedBootstrap().mean_diff(a, a.copy())
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0) and not same.significant


def test_ci_coverage_is_near_nominal() -> None:
    # 95% intervals on 60 independent data sets with true difference 0.2: most cover it.
    boot = PairedBootstrap(resamples=1000)
    covered = 0
    for seed in range(60):
        rng = np.random.default_rng(100 + seed)
        a = rng.normal(0, 1, 200)
        b = a + 0.2 + rng.normal(0, 0.5, 200)
        iv = boot.mean_diff(a, b)
        covered += iv.low <= 0.2 <= iv.high
    assert covered >= 52  # 60 * 0.95 = 57 expected; 52 is ~3 sd below


def test_percentile_diff_relative() -> None:
    rng = np.random.default_rng(7)
    a = rng.lognormal(0, 0.4, 500)
    b = 0.6 * a  # B exactly 40% faster everywhere
    (p50, p50_rel), (p95, p95_rel) = PairedBootstrap().percentile_diff(a, b)
    assert p50_rel is not None and p95_rel is not None
    assert p50_rel.estimate == pytest.approx(-40.0)
    assert p95_rel.low == pytest.approx(-40.0) and p95_rel.high == pytest.approx(-40.0)
    assert p95.estimate == pytest.approx(-0.4 * np.percentile(a, 95))
    assert p95.significant and p50.high < 0


def test_percentile_diff_no_difference_includes_zero() -> None:
    rng = np.random.default_rng(8)
    a = rng.lognormal(0, 0.4, 500)
    b = a * rng.lognormal(0, 0.1, 500)
    for absolute, rel in PairedBootstrap().percentile_diff(a, b):
        assert absolute.low < 0 < absolute.high
        assert rel is not None and rel.low < 0 < rel.high


def test_mcnemar_textbook_chi_square() -> None:
    # Agresti, Categorical Data Analysis: approval 794/150/86/570; discordant 150 and 86.
    a = [True] * 794 + [True] * 150 + [False] * 86 + [False] * 570
    b = [True] * 794 + [False] * 150 + [True] * 86 + [False] * 570
    res = mcnemar(a, b)
    assert (res.a_only, res.b_only, res.method) == (150, 86, "chi2")
    stat = (abs(150 - 86) - 1) ** 2 / 236  # continuity-corrected: 16.818
    assert res.statistic == pytest.approx(stat) and stat == pytest.approx(16.818, abs=1e-3)
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(stat / 2)))  # chi2(1) tail
    assert res.p_value == pytest.approx(4.115e-5, rel=1e-3)


def test_mcnemar_exact_small_counts() -> None:
    # 1 vs 9 discordant: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024.
    a = [True] + [False] * 9 + [True] * 5
    b = [False] + [True] * 9 + [True] * 5
    res = mcnemar(a, b)
    assert res.method == "exact" and res.p_value == pytest.approx(22 / 1024)
    assert mcnemar([True, False], [True, False]).p_value == 1.0


def test_outcomes_and_tolerance() -> None:
    a = np.array([0.5, 0.5, 1.0, 1.00])
    b = np.array([0.6, 0.4, 1.0, 1.02])
    assert outcomes(a, b, higher_is_better=True) == ["B", "A", "tie", "B"]
    assert outcomes(a, b, higher_is_better=False, rel_tol=0.05) == ["A", "B", "tie", "tie"]
    wtl = win_tie_loss(outcomes(a, b, higher_is_better=True))
    assert (wtl.a_wins, wtl.b_wins, wtl.ties) == (1, 2, 1)


def test_sign_flip_test_exact_small_sample() -> None:
    from workbench.scoring.stats import sign_flip_test

    # Three equal positive differences: of the 8 sign patterns, 2 reach |sum| = 3.
    assert sign_flip_test([0.1, 0.1, 0.1, 0.0, 0.0, 0.0]) == pytest.approx(2 / 8)
    assert sign_flip_test([0.0, 0.0]) == 1.0
    # Twenty equal positive differences: far beyond chance.
    assert sign_flip_test([0.2] * 20) < 0.001
    # Symmetric differences: no evidence at all.
    assert sign_flip_test([0.3, -0.3, 0.2, -0.2]) == pytest.approx(1.0)


def test_six_pairs_with_three_small_wins_is_not_called_significant() -> None:
    """Like the 6-question demo run that first showed it: A answers 3 questions a little
    better, 3 are ties. The percentile bootstrap alone excluded 0; the BCa interval widened
    for 6 pairs reaches it, and the paired test stops the call too (p = 2/8)."""
    from tests.report.synthetic import question, record
    from workbench.report.scorecard import build_scorecard

    qs = [question(f"q{i}", ["Kessingford studio"]) for i in range(6)]
    recs = []
    for i, q in enumerate(qs):
        recs.append(record(q.id, "A", "Kessingford studio" if i < 3 else "nowhere"))
        recs.append(record(q.id, "B", "Kessingford" if i < 3 else "nowhere"))
    card = build_scorecard(qs, recs, semantic=False)
    f1 = card.comparison("f1")
    assert f1.ci_low is not None and f1.ci_high is not None and f1.ci_low < 0 <= f1.ci_high
    assert f1.p_value == pytest.approx(0.25)
    assert not f1.significant and f1.better is None
    assert card.quality_difference is False
