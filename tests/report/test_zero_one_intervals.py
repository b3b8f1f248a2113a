"""Intervals for scores that are all 0 or 1 (#22 point 10): a stack's own F1 is Wilson's
score interval and a paired F1 difference Newcombe's, whatever the metric is called, where
the bootstrap's interval covered too rarely (or was a point: 30 right of 30 gave [1, 1])."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from tests.scoring.test_paired_proportions import _table
from workbench.report.paired import _compare_mean
from workbench.report.summaries import own_intervals
from workbench.scoring.base import Metric
from workbench.scoring.stats import PairedBootstrap, is_zero_one, paired_proportion_diff, wilson

#: F1 as the scorer defines it: not a binary metric, though every value may be 0 or 1.
F1 = Metric("f1", "F1", "quality", "token F1 against the gold answers")
#: A token F1 of 1 as 2pr / (p + r) computes it for some answers.
ONE = 0.9999999999999999


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718)])
def test_wilson_published_values(k: int, n: int, low: float, high: float) -> None:
    """Newcombe (1998), 'Two-sided confidence intervals for the single proportion', Stat
    Med 17:857, table I, method 3 (the score interval without continuity correction)."""
    iv = wilson(k, n)
    assert (round(iv.low, 4), round(iv.high, 4)) == (low, high)
    assert iv.estimate == k / n


def test_wilson_equals_statsmodels_and_is_exact_at_the_edges() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for n in (1, 7, 30, 68):
        for k in range(n + 1):
            iv = wilson(k, n, 0.9)
            low, high = proportion_confint(k, n, alpha=0.1, method="wilson")
            assert iv.low == pytest.approx(low, abs=1e-12)
            assert iv.high == pytest.approx(high, abs=1e-12)
    # n of n reaches 1 exactly (the share is inside its own interval); n / (n + z^2) below.
    assert wilson(30, 30).high == 1.0 and wilson(0, 30).low == 0.0
    assert wilson(30, 30).low == pytest.approx(30 / (30 + 1.959964**2), abs=1e-6)
    assert np.isnan(wilson(0, 0).low)


def test_is_zero_one_allows_rounding_only() -> None:
    assert is_zero_one(np.array([0.0, ONE, 1.0]), np.array([1e-12]))
    assert not is_zero_one(np.array([0.0, 1.0]), np.array([0.5]))
    assert not is_zero_one(np.array([0.0, 1.0 - 1e-6]))
    assert not is_zero_one(np.array([]))


@pytest.mark.parametrize(("n", "p"), [(30, 0.495), (30, 0.6435), (30, 0.9), (68, 0.6435),
                                      (200, 0.9)])
def test_own_f1_interval_holds_its_level_exactly(n: int, p: float) -> None:
    """Exact binomial coverage (every count k weighted by its probability) of the stack's
    own F1 interval through `own_intervals`, at `make calibrate`'s rates (0.495, 0.6435)
    and a strong stack's (0.9). Wilson: 0.943-0.974. The BCa interval it replaces reached
    0.884 at n=30 and 0.925 at n=200 for p=0.9 (30 of 30 right gave the point [1, 1])."""
    boot = PairedBootstrap(resamples=500, seed=20240521)
    held = 0.0
    for k in range(n + 1):
        scores = np.where(np.arange(n) < k, ONE, 0.0)
        low, high = own_intervals({"f1": scores}, boot)["f1"]
        assert low is not None and high is not None
        held += float(sps.binom.pmf(k, n, p)) * (low <= p <= high)
    assert held >= 0.94, held


def test_continuous_f1_keeps_the_bootstrap() -> None:
    boot = PairedBootstrap(resamples=500, seed=3)
    scores = np.random.default_rng(3).beta(2, 2, 40)
    iv = boot.mean(scores)
    assert own_intervals({"f1": scores}, boot)["f1"] == [iv.low, iv.high]


def test_f1_difference_of_zero_one_scores_is_newcombes() -> None:
    """The published example (Cavo et al. 2012, [[59, 6], [16, 80]]: -0.0621 [-0.1186,
    -0.0046] in Fagerland, Lydersen and Laake 2017, ch. 8) scored as F1, through the
    scorecard's comparison: F1 is not a binary metric, yet every score is 0 or 1."""
    first, second = _table(59, 6, 16, 80)
    boot = PairedBootstrap(resamples=500, seed=1)
    c = _compare_mean(F1, second * ONE, first * ONE, "A", "B", boot)
    assert c.diff == pytest.approx(-0.0621, abs=5e-5)
    assert c.ci_low == pytest.approx(-0.1186, abs=5e-5)
    assert c.ci_high == pytest.approx(-0.0046, abs=5e-5)
    # Continuous F1: the paired bootstrap, as before.
    rng = np.random.default_rng(4)
    a, b = rng.beta(2, 2, 50), rng.beta(2, 2, 50)
    c = _compare_mean(F1, a, b, "A", "B", boot)
    iv = boot.mean_diff(a, b)
    assert (c.ci_low, c.ci_high) == (iv.low, iv.high)


def test_f1_difference_covers_where_the_bootstrap_was_a_point() -> None:
    """Two strong stacks (0.9 right each, answers correlated 0.5) at n=30: many runs have
    no discordant question, where the bootstrap's interval is the point 0 (and with one or
    two, nearly so). 1,000 simulated runs through `_compare_mean`: Newcombe holds the true
    difference at least 0.94 of the time; a second pair at the calibration's rates too."""
    boot = PairedBootstrap(resamples=300, seed=1)
    rng = np.random.default_rng(30)
    for p_a, p_b in ((0.9, 0.85), (0.495, 0.6435)):
        held = 0
        for _ in range(1000):
            shared = rng.normal(size=30)
            za = np.sqrt(0.5) * shared + np.sqrt(0.5) * rng.normal(size=30)
            zb = np.sqrt(0.5) * shared + np.sqrt(0.5) * rng.normal(size=30)
            a = (sps.norm.cdf(za) < p_a) * ONE
            b = (sps.norm.cdf(zb) < p_b) * ONE
            c = _compare_mean(F1, a, b, "A", "B", boot)
            assert c.ci_low is not None and c.ci_high is not None
            held += c.ci_low <= p_b - p_a <= c.ci_high
        assert held / 1000 >= 0.94, (p_a, p_b, held)
    assert paired_proportion_diff(np.ones(30), np.ones(30)).high > 0.05
