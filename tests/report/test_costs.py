"""Each stack's cost per 1,000 answers with its CI (`report.costs.own_cost`): the interval
is BCa on the ratio of sums, and its coverage is simulated through the product's code."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.report.costs import own_cost
from workbench.scoring.stats import PairedBootstrap


def _run(rng: np.random.Generator, n: int, sd: float, error: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """One stack's per-question costs as `question_costs` makes them: every request's E2E
    (failed ones too) is busy time, spread over the successful answers' E2E."""
    e2e = rng.lognormal(0.0, sd, n)
    ok = rng.random(n) >= error
    if not ok.any():
        ok[0] = True
    scale = e2e.sum() / e2e[ok].sum()
    return np.where(ok, e2e * scale, 0.0), ok


@pytest.mark.parametrize(("n", "least"), [(30, 0.915), (68, 0.935)])
def test_cost_per_answer_interval_covers(n: int, least: float) -> None:
    """The true cost per answer is E[E2E] / (1 - error rate) (log-normal E2E, log-sd 0.47,
    as in `make calibrate`). Over 600 simulated runs the BCa interval held it 0.925 of the
    time at n=30 and 0.943 at n=68; the percentile interval it replaced 0.895 and 0.947.
    A mean of data this skewed has no interval that holds 0.95 at n=30 without a model of
    the tail: the floor here is what BCa reaches (Monte Carlo SE about 0.011), and it
    fails the percentile interval at n=30."""
    rng = np.random.default_rng(n)
    boot = PairedBootstrap(resamples=500, seed=1)
    sd, error = math.sqrt(0.4**2 + 0.25**2), 0.01
    truth = math.exp(sd**2 / 2) / (1 - error) * 1000
    hit = 0
    for _ in range(600):
        costs, ok = _run(rng, n, sd, error)
        own = own_cost(boot, costs, ok, np.ones(n))
        assert own is not None
        hit += own.per_1k_ci[0] <= truth <= own.per_1k_ci[1]
    assert hit / 600 >= least, hit


def test_interval_brackets_the_estimate_and_per_correct_has_one() -> None:
    rng = np.random.default_rng(5)
    costs, ok = _run(rng, 40, 0.5, 0.05)
    correct = (rng.random(40) < 0.6).astype(float)
    own = own_cost(PairedBootstrap(resamples=500, seed=1), costs, ok, correct)
    assert own is not None and own.per_correct is not None and own.per_correct_ci is not None
    assert own.per_1k_ci[0] < own.per_1k < own.per_1k_ci[1]
    assert own.per_correct_ci[0] < own.per_correct < own.per_correct_ci[1]
    assert own.per_1k == pytest.approx(costs.sum() / ok.sum() * 1000)
