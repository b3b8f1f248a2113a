"""Tests whose interval and decision can never disagree, and Holm's step-down over them.

The choice says "tied" or "better" and shows an interval beside the word; with a bootstrap
CI beside a permutation p-value the two could disagree (a "tie" whose CI excludes 0).
Here every test carries its own draws, and at any level `a` both the decision and the
interval are read off the same order statistic, so `rejects(a)` holds exactly when
`interval(a)` excludes 0:

- `SignFlipTest` (F1 differences): the paired sign-flip permutation test of mean(d) = 0,
  and its inversion, mean(d) +- the permutation critical value (conservative away from 0:
  the sign-flip spread uses mean(d^2), not the variance).
- `BootstrapTest` (log ratios of costs and latencies): a two-sided percentile-bootstrap
  test, p = 2 (1 + #draws on the far side of 0) / (1 + B), and the percentile interval.

`holm_decide` runs Holm's step-down with each test's own `rejects`, and hands back the level
each test was decided at: a rejected test at its step's alpha / (m - i), every accepted one
at the level of the first step that failed, so an accepted test's interval always holds 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

FloatArray = npt.NDArray[np.float64]
#: Sign patterns are enumerated exactly up to this many pairs (2**16 patterns).
EXACT_UP_TO = 12


class Test(Protocol):
    """A two-sided test that can be asked at any level."""

    @property
    def p_value(self) -> float:
        """The unadjusted two-sided p-value."""
        ...

    def rejects(self, level: float) -> bool:
        """Whether the test rejects "no difference" at this level."""
        ...


@lru_cache(maxsize=16)
def _patterns(n: int, draws: int, seed: int) -> tuple[npt.NDArray[np.float64], bool]:
    """(patterns x n) random signs, or every pattern when n is small; (signs, exact)."""
    if n <= EXACT_UP_TO:
        signs = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
        return signs.astype(np.float64), True
    rng = np.random.default_rng([seed, n])
    return rng.integers(0, 2, size=(draws, n)).astype(np.float64) * 2.0 - 1.0, False


@dataclass(frozen=True)
class SignFlipTest:
    """Paired sign-flip test of mean(d) = 0 with its inverted interval (see module doc)."""

    estimate: float
    """mean(d)."""
    n: int
    flipped: FloatArray
    """|mean(d * signs)| of every sign pattern, largest first."""
    exact: bool
    """Every pattern enumerated (p = k / 2**n), else Monte Carlo (p = (1 + k) / (1 + B))."""

    def _tol(self) -> float:
        return 1e-9 * max(1.0, abs(self.estimate))

    def _allowed(self, level: float) -> int:
        """The most patterns that may reach the observed |mean| for a rejection at `level`."""
        c, b = (0, self.flipped.size) if self.exact else (1, self.flipped.size)
        return math.ceil(level * (c + b) - c) - 1

    @property
    def p_value(self) -> float:
        """Two-sided permutation p-value."""
        if self.n == 0:
            return 1.0
        hits = int(np.sum(self.flipped >= abs(self.estimate) - self._tol()))
        c = 0 if self.exact else 1
        return min(1.0, (c + hits) / (c + self.flipped.size))

    def half_width(self, level: float) -> float:
        """The permutation critical value at `level` (inf when no pattern count allows it)."""
        k = self._allowed(level)
        if self.n == 0 or k < 0:
            return math.inf
        return float(self.flipped[min(k, self.flipped.size - 1)]) + self._tol()

    def rejects(self, level: float) -> bool:
        """mean(d) is outside the critical value at `level`."""
        return abs(self.estimate) > self.half_width(level)

    def interval(self, level: float, bounds: tuple[float, float] = (-1.0, 1.0)
                 ) -> tuple[float, float]:
        """The (1 - level) interval of mean(d), clipped to the possible `bounds`."""
        h = self.half_width(level)
        return max(bounds[0], self.estimate - h), min(bounds[1], self.estimate + h)


def sign_flip_tests(diffs: FloatArray, *, draws: int, seed: int) -> list[SignFlipTest]:
    """One test per column of `diffs` (pairs x tests); every column shares the same sign
    patterns, so a run's comparisons are one matrix product."""
    d = np.asarray(diffs, dtype=np.float64)
    n = d.shape[0]
    if n == 0:
        return [SignFlipTest(math.nan, 0, np.zeros(0), True) for _ in range(d.shape[1])]
    signs, exact = _patterns(n, draws, seed)
    flipped = np.abs(signs @ d) / n
    flipped = -np.sort(-flipped, axis=0)
    means = d.mean(axis=0)
    return [SignFlipTest(float(means[j]), n, flipped[:, j], exact) for j in range(d.shape[1])]


@dataclass(frozen=True)
class BootstrapTest:
    """A percentile-bootstrap test of a statistic on a log scale (0: no difference)."""

    estimate: float
    draws: FloatArray
    """The statistic in every resample, sorted."""
    n: int

    def _allowed(self, level: float) -> int:
        return math.ceil(level * (1 + self.draws.size) / 2 - 1) - 1

    def _far_side(self) -> int:
        return int(min(np.sum(self.draws <= 0), np.sum(self.draws >= 0)))

    @property
    def p_value(self) -> float:
        """Two-sided: 2 (1 + draws on the far side of 0) / (1 + B), at most 1."""
        if self.draws.size == 0:
            return 1.0
        return min(1.0, 2.0 * (1 + self._far_side()) / (1 + self.draws.size))

    def rejects(self, level: float) -> bool:
        """The (1 - level) percentile interval excludes 0."""
        k = self._allowed(level)
        return self.draws.size > 0 and k >= 0 and self._far_side() <= k

    def interval(self, level: float) -> tuple[float, float]:
        """The (1 - level) percentile interval (order statistics k and B - 1 - k)."""
        k = self._allowed(level)
        if self.draws.size == 0 or k < 0:
            return -math.inf, math.inf
        return float(self.draws[k]), float(self.draws[self.draws.size - 1 - k])

    def n_to_detect(self, level: float, power: float = 0.8) -> int | None:
        """Questions a paired comparison would need to detect the observed difference at
        `level` with `power` (normal approximation from the bootstrap spread); None when
        there is no difference to detect."""
        se = float(np.std(self.draws, ddof=1)) if self.draws.size > 1 else 0.0
        if se == 0 or abs(self.estimate) < 1e-3:
            return None
        z = float(sps.norm.ppf(1 - level / 2) + sps.norm.ppf(power))
        return max(self.n + 1, math.ceil(self.n * (z * se / abs(self.estimate)) ** 2))


def bootstrap_test(estimate: float, draws: FloatArray, n: int) -> BootstrapTest:
    """A `BootstrapTest` from unsorted draws (non-finite draws dropped)."""
    d = np.asarray(draws, dtype=np.float64)
    return BootstrapTest(estimate, np.sort(d[np.isfinite(d)]), n)


@dataclass(frozen=True)
class Decided:
    """One test after Holm's step-down."""

    rejected: bool
    level: float
    """The level it was decided at (its interval is shown at 1 - level)."""
    p_holm: float


def holm_decide(tests: Sequence[Test], alpha: float) -> list[Decided]:
    """Holm's step-down over `tests` (sorted by p-value; the i-th, 0-based, is asked at
    alpha / (m - i) until one fails; it and every later one are accepted at that level)."""
    m = len(tests)
    if m == 0:
        return []
    p = np.array([t.p_value for t in tests])
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(np.maximum.accumulate(p[order] * (m - np.arange(m))), 1.0)
    out: list[Decided | None] = [None] * m
    failed_at: float | None = None
    for i, idx in enumerate(order):
        level = alpha / (m - i)
        if failed_at is None and tests[idx].rejects(level):
            out[idx] = Decided(True, level, float(adjusted[i]))
        else:
            failed_at = level if failed_at is None else failed_at
            out[idx] = Decided(False, failed_at, float(adjusted[i]))
    return [d for d in out if d is not None]
