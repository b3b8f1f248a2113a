"""The paired statistics checked value for value against independent implementations
(statsmodels' `multipletests`, scipy's BCa bootstrap, brute force), and the BCa interval's
coverage simulated through the product's own `PairedBootstrap`."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from workbench.scoring.stats import (
    LATENCY_TIE,
    PairedBootstrap,
    benjamini_hochberg,
    faster_count,
    holm,
    jackknife_percentile,
    median_ratio,
    monte_carlo_p,
    sign_flip_test,
)


@pytest.mark.parametrize("seed", range(6))
def test_holm_and_bh_equal_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 15))
    p = rng.uniform(0, 0.2, m) ** 2  # many small p-values, so the step-down matters
    if m > 3:
        p[1] = p[0]  # a tie
    assert holm(list(p)) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-12)
    assert benjamini_hochberg(list(p)) == pytest.approx(
        multipletests(p, method="fdr_bh")[1], abs=1e-12)


def test_holm_textbook_values() -> None:
    # Sorted 0.01, 0.02, 0.03, 0.04 of 4: x4, x3, x2, x1 -> 0.04, 0.06, 0.06 (monotone), 0.06.
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert benjamini_hochberg([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.04] * 4)
    assert holm([]) == [] and benjamini_hochberg([]) == []


def test_bca_equals_scipy_on_skewed_data() -> None:
    """Textbook BCa (no small-sample widening) against scipy's, on data skewed enough that
    the percentile interval is visibly off (the difference from scipy is Monte Carlo
    error of 40,000 resamples; the percentile interval misses by 5-10 times more)."""
    boot = PairedBootstrap(resamples=40000, expand=False)
    rng = np.random.default_rng(3)
    for n in (25, 40):
        d = rng.exponential(1.0, n)
        ours = boot.mean(d)
        ref = sps.bootstrap((d,), np.mean, method="BCa", n_resamples=40000,
                            random_state=1).confidence_interval
        pct = np.quantile(boot.mean_draws(d), [0.025, 0.975])
        assert ours.low == pytest.approx(ref.low, abs=0.006)
        assert ours.high == pytest.approx(ref.high, abs=0.006)
        assert abs(pct[0] - ref.low) > 0.02 and abs(pct[1] - ref.high) > 0.04
        x = rng.lognormal(0, 0.6, n)
        med = boot.interval(float(np.median(x)), boot.percentiles(x, (50.0,))[:, 0],
                            jackknife_percentile(x, 50.0))
        ref = sps.bootstrap((x,), np.median, method="BCa", n_resamples=40000,
                            random_state=1).confidence_interval
        assert (med.low, med.high) == pytest.approx((ref.low, ref.high), abs=1e-9)


def test_jackknife_percentile_equals_brute_force() -> None:
    x = np.random.default_rng(4).exponential(1.0, 23)
    x[5] = x[9]  # a tie
    for q in (0.0, 25.0, 50.0, 95.0, 100.0):
        want = [np.percentile(np.delete(x, i), q) for i in range(x.size)]
        got = jackknife_percentile(x, q)
        assert got is not None and got == pytest.approx(want)
    assert jackknife_percentile(np.array([1.0]), 50.0) is None


def _coverage(boot: PairedBootstrap, n: int, runs: int) -> float:
    covered = 0
    for r in range(runs):
        d = np.random.default_rng([7, n, r]).normal(0.1, 1.0, n)
        iv = boot.mean(d)
        covered += iv.low <= 0.1 <= iv.high
    return covered / runs


def test_bca_coverage_through_the_product_code() -> None:
    """400 simulated data sets of 10 and 30 pairs: the widened BCa interval covers the
    true mean about 95% of the time (simulated 0.946 and 0.944 over 1,000 runs); the
    percentile interval covered 0.903 and 0.924, which fails here."""
    boot = PairedBootstrap(resamples=2000)
    assert _coverage(boot, 10, 400) >= 0.93
    assert _coverage(boot, 30, 400) >= 0.93


def test_monte_carlo_p_value_is_never_zero() -> None:
    # 40 equal positive differences: no random sign pattern reaches the observed sum, so
    # the p-value is the floor 1 / (1 + draws), not 0.
    assert sign_flip_test([0.2] * 40, draws=999) == pytest.approx(1 / 1000)
    assert monte_carlo_p(0, 999) == pytest.approx(0.001)
    assert monte_carlo_p(999, 999) == 1.0
    # Exact enumeration (up to 16) stays exact: 2 of the 2^3 patterns reach |sum| = 0.3.
    assert sign_flip_test([0.1, 0.1, 0.1]) == pytest.approx(2 / 8)


def test_one_tie_rule_for_every_faster_count() -> None:
    """The median-ratio line ("faster on N of M") and the per-question E2E wins use the same
    5% tie rule: a 2% difference is a tie in both."""
    base = np.array([1.0, 1.0, 1.0, 1.0, 1.0, np.nan])
    cand = np.array([0.5, 0.98, 1.02, 1.5, 0.9, 1.0])
    count = faster_count(base, cand)
    assert (count.b_wins, count.a_wins, count.ties) == (2, 1, 2)
    summary = median_ratio(PairedBootstrap(resamples=200), base, cand)
    assert summary is not None
    assert (summary.better, summary.worse, summary.ties, summary.n) == (2, 1, 2, 5)
    assert LATENCY_TIE == 0.05
    # tok/s: higher is better.
    up = faster_count(base, cand, higher_is_better=True)
    assert (up.b_wins, up.a_wins) == (1, 2)
