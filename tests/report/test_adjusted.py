"""The choice's tests: Holm's step-down against statsmodels, the sign-flip p-value against
the scorecard's own test, and decision == interval excludes 0 at every level."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from workbench.report.adjusted import bootstrap_test, holm_decide, sign_flip_tests
from workbench.scoring.stats import sign_flip_test


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=12))
def test_holm_matches_statsmodels_value_for_value(p: list[float]) -> None:
    class Fixed:
        def __init__(self, p: float) -> None:
            self.p_value = p

        def rejects(self, level: float) -> bool:
            return self.p_value < level

    decided = holm_decide([Fixed(x) for x in p], 0.05)
    _, adjusted, _, _ = multipletests(p, alpha=0.05, method="holm")
    assert [d.p_holm for d in decided] == pytest.approx(list(adjusted))
    # statsmodels rejects at p == alpha / (m - i) too; here a rejection needs p below it.
    assert [d.rejected for d in decided] == [bool(x < 0.05) for x in adjusted]


def test_holm_levels_an_accepted_test_at_the_step_that_failed() -> None:
    class Fixed:
        def __init__(self, p: float) -> None:
            self.p_value = p

        def rejects(self, level: float) -> bool:
            return self.p_value < level

    d = holm_decide([Fixed(0.001), Fixed(0.04), Fixed(0.03)], 0.05)
    assert [x.rejected for x in d] == [True, False, False]
    assert [x.level for x in d] == pytest.approx([0.05 / 3, 0.05 / 2, 0.05 / 2])


def test_exact_sign_flip_p_is_the_scorecards() -> None:
    rng = np.random.default_rng(0)
    d = rng.choice([-1.0, 0.0, 0.5, 1.0], size=(10, 6))
    for j, t in enumerate(sign_flip_tests(d, draws=1000, seed=1)):
        assert t.exact and t.p_value == pytest.approx(sign_flip_test(d[:, j]))


def test_monte_carlo_sign_flip_p_is_never_zero() -> None:
    d = np.ones((40, 1))
    [t] = sign_flip_tests(d, draws=999, seed=1)
    assert not t.exact and t.p_value == pytest.approx(1 / 1000)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 60), st.integers(0, 2**31), st.floats(0.001, 0.2),
       st.sampled_from([0.0, 0.1, 0.3]))
def test_a_test_rejects_exactly_when_its_interval_excludes_zero(
        n: int, seed: int, level: float, shift: float) -> None:
    rng = np.random.default_rng(seed)
    d = np.round(rng.normal(shift, 0.5, size=(n, 3)), 1)
    for t in sign_flip_tests(d, draws=500, seed=seed):
        low, high = t.interval(level, bounds=(-np.inf, np.inf))
        assert t.rejects(level) == (low > 0 or high < 0)
        assert t.rejects(level) == (t.p_value < level)
    draws = rng.normal(shift, 0.1, 999)
    b = bootstrap_test(float(np.mean(draws)), draws, n)
    low, high = b.interval(level)
    assert b.rejects(level) == (low > 0 or high < 0)
    assert b.rejects(level) == (b.p_value < level)
