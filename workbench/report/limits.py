"""The intervals a limit is judged on, and what it takes to settle one that is not known.

A constraint (`e2e.p95<=3s`, `f1>=0.3`, `error_rate<=5%`) is met only when its whole 95%
interval is on the right side of the limit, fails when the whole interval is on the wrong
side, and is not known in between: a point estimate on the right side is not enough.

- Quantiles (`p50`..`p99`): the distribution-free order-statistic interval (binomial, exact,
  no bootstrap; `scipy.stats.quantile_test`). Failed and timed-out requests are censored:
  slower than any limit (+inf; for a rate such as tok/s, -inf), never dropped.
- Rates (errors, planted false answers, 0/1 scores): Clopper-Pearson (statsmodels'
  `proportion_confint`, else scipy's `binomtest`).
- Means of scores in [0, 1]: Student's t over the per-answer values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as sps

#: Two-sided confidence of every interval a limit is judged on.
CONFIDENCE = 0.95
State = Literal["met", "failed", "unknown"]
MET: State = "met"
FAILED: State = "failed"
UNKNOWN: State = "unknown"
#: The largest run a "would settle it" estimate looks at.
MAX_SETTLE_N = 1_000_000


@dataclass(frozen=True)
class Bound:
    """An estimate and its two-sided interval (`low`/`high` may be infinite) over `n`."""

    estimate: float | None
    low: float
    high: float
    n: int


def _finite(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    return x[np.isfinite(x)]


def quantile_bound(values: Sequence[float], q: float, censored: int = 0, *,
                   worst_is_high: bool = True, confidence: float = CONFIDENCE) -> Bound:
    """The q-quantile (0 < q < 1) of `values` plus `censored` failed requests counted as
    worse than any limit, with its distribution-free order-statistic interval."""
    fill = math.inf if worst_is_high else -math.inf
    full = np.concatenate([_finite(values), np.full(max(censored, 0), fill)])
    if full.size == 0:
        return Bound(None, -math.inf, math.inf, 0)
    # "inverted_cdf" is an observed value, so it is defined with infinities among them.
    est = float(np.quantile(full, q, method="inverted_cdf"))
    ci = sps.quantile_test(full, q=0.0, p=q).confidence_interval(confidence)
    low = float(ci.low) if np.isfinite(ci.low) or np.isinf(ci.low) else -math.inf
    high = float(ci.high) if np.isfinite(ci.high) or np.isinf(ci.high) else math.inf
    return Bound(est, low, high, int(full.size))


def upper_bound_min_n(q: float, confidence: float = CONFIDENCE) -> int:
    """The fewest values whose q-quantile has a finite upper bound (the interval's upper
    end is the largest value only once q^n <= (1 - confidence) / 2: 72 for a p95, 6 for a
    median); with fewer the upper end is +inf."""
    return math.ceil(math.log((1.0 - confidence) / 2.0) / math.log(q) - 1e-12)


def rate_bound(k: int, n: int, confidence: float = CONFIDENCE) -> Bound:
    """k of n, with its exact (Clopper-Pearson) interval."""
    if n <= 0:
        return Bound(None, 0.0, 1.0, 0)
    try:
        # why here: statsmodels takes seconds to import
        from statsmodels.stats.proportion import proportion_confint
    except ImportError:  # statsmodels is optional; scipy gives the same exact interval
        ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
        low, high = float(ci.low), float(ci.high)
    else:
        lo, hi = proportion_confint(k, n, alpha=1 - confidence, method="beta")
        low, high = float(lo), float(hi)
    return Bound(k / n, low if math.isfinite(low) else 0.0, high if math.isfinite(high) else 1.0,
                 n)


def mean_bound(values: Sequence[float], confidence: float = CONFIDENCE) -> Bound:
    """The mean of per-answer values: Clopper-Pearson when they are all 0 or 1, else
    Student's t."""
    x = _finite(values)
    if x.size == 0:
        return Bound(None, -math.inf, math.inf, 0)
    if np.isin(x, (0.0, 1.0)).all():
        return rate_bound(int(x.sum()), int(x.size), confidence)
    m = float(x.mean())
    if x.size < 2:
        return Bound(m, -math.inf, math.inf, 1)
    half = float(sps.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return Bound(m, m - half, m + half, int(x.size))


def decide(bound: Bound, op: str, limit: float) -> State:
    """met: the whole interval is on the allowed side of the limit; failed: the whole
    interval is beyond it; unknown otherwise."""
    if bound.estimate is None:
        return UNKNOWN
    if op in ("<=", "<"):
        if bound.high < limit or (op == "<=" and bound.high == limit):
            return MET
        if bound.low > limit or (op == "<" and bound.low == limit):
            return FAILED
        return UNKNOWN
    if bound.low > limit or (op == ">=" and bound.low == limit):
        return MET
    if bound.high < limit or (op == ">" and bound.high == limit):
        return FAILED
    return UNKNOWN


def _nice_sizes(above: int) -> list[int]:
    """1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k above `above`, up to MAX_SETTLE_N."""
    sizes = sorted({int(m * 10**e) for e in range(1, 7)
                    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)})
    return [s for s in sizes if above < s <= MAX_SETTLE_N]


def _first_settling(n: int, judge_at: Callable[[int], State]) -> int | None:
    for size in _nice_sizes(n):
        if judge_at(size) != UNKNOWN:
            return size
    return None


def quantile_settle_n(values: Sequence[float], q: float, censored: int, op: str, limit: float,
                      *, worst_is_high: bool = True) -> int | None:
    """About how many requests would settle a quantile limit, if the share of requests
    within the limit stays what it is now (None: the limit sits at the quantile)."""
    full = np.concatenate([_finite(values),
                           np.full(max(censored, 0), math.inf if worst_is_high else -math.inf)])
    if full.size == 0:
        return None
    share = float((full <= limit).mean())
    if share == q:
        return None

    def at(size: int) -> State:
        below = round(share * size)
        fake = [limit - 1.0] * below + [limit + 1.0] * (size - below)
        return decide(quantile_bound(fake, q), op, limit)

    return _first_settling(int(full.size), at)


def rate_settle_n(bound: Bound, op: str, limit: float) -> int | None:
    """About how many trials would settle a rate limit at the same observed rate."""
    if bound.estimate is None or bound.estimate == limit:
        return None
    rate = bound.estimate
    return _first_settling(bound.n, lambda size: decide(
        rate_bound(round(rate * size), size), op, limit))


def mean_settle_n(bound: Bound, limit: float) -> int | None:
    """About how many answers would settle a mean limit at the same mean and spread (the
    interval narrows as 1/sqrt(n))."""
    if bound.estimate is None or bound.estimate == limit or not (
            math.isfinite(bound.low) and math.isfinite(bound.high)) or bound.n < 2:
        return None
    half = (bound.high - bound.low) / 2
    need = math.ceil(bound.n * (half / abs(bound.estimate - limit)) ** 2) + 1
    return next((s for s in _nice_sizes(bound.n) if s >= need), None)
