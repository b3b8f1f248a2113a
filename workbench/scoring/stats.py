"""Paired statistics (a candidate against the baseline): bootstrap CIs, McNemar's test,
win/tie/loss, Holm's correction, median latency ratios and minimum detectable differences.

Pairs are the same question answered by both sides. The bootstrap resamples pairs (so the
question-to-question spread cancels out of the difference) with a fixed seed, and is
vectorised: one matrix of resample counts (resamples x pairs) is drawn per sample size and
reused, means are one matrix-vector product, and percentiles of each resample are read off
cumulative counts over the sorted values, without sorting any resample.

CIs are BCa intervals (bias-corrected and accelerated, Efron 1987): the percentile interval
covered a true mean difference only 0.855 of the time at n=10 and 0.93 at n=20-50. The
bias correction is read off the resamples, the acceleration off the leave-one-out
(jackknife) estimates, which for a mean and a percentile are closed forms, so nothing is
refitted n times. A difference is significant when its CI excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0 or self.high < 0


class PairedBootstrap:
    """Bootstrap over paired observations, with fixed seed and cached resample counts."""

    def __init__(self, resamples: int = 2000, seed: int = 20240521,
                 confidence: float = 0.95, expand: bool = True) -> None:
        self.resamples = resamples
        self.seed = seed
        self.confidence = confidence
        #: Widen BCa for the sample size (`bca_levels`' `expand_n`); off = textbook BCa.
        self.expand = expand
        self._counts: dict[int, npt.NDArray[np.float32]] = {}

    def counts(self, n: int) -> npt.NDArray[np.float32]:
        """How often each of n pairs is drawn in each resample (n x resamples: a pair's
        counts are one contiguous row, so reordering pairs is a fast row gather)."""
        if n not in self._counts:
            # Seeded by (seed, n): the same data gives the same CI whatever was scored before.
            rng = np.random.default_rng([self.seed, n])
            idx = rng.integers(0, n, size=(self.resamples, n), dtype=np.int32)
            counts = np.empty((n, self.resamples), dtype=np.float32)
            # Counted in blocks of resamples: one bincount over all resamples x n bins
            # misses the cache on every draw and is several times slower.
            block = 256
            offsets = (np.arange(block, dtype=np.int32) * n)[:, None]
            for start in range(0, self.resamples, block):
                rows = idx[start : start + block]
                k = rows.shape[0]
                flat = np.bincount((rows + offsets[:k]).ravel(), minlength=k * n)
                counts[:, start : start + k] = flat.reshape(k, n).T
            self._counts[n] = counts
        return self._counts[n]

    def interval(self, estimate: float, draws: FloatArray,
                 jackknife: FloatArray | None = None) -> Interval:
        """The BCa interval of `estimate` from its bootstrap `draws` and its leave-one-out
        `jackknife` estimates (without them, the acceleration is 0: bias-corrected only)."""
        draws = draws[np.isfinite(draws)]
        if draws.size == 0 or not math.isfinite(estimate):
            return Interval(estimate, math.nan, math.nan)
        low, high = bca_levels(estimate, draws, jackknife, self.confidence,
                               expand_n=jackknife.size if self.expand and jackknife is not None
                               else None)
        lo, hi = np.quantile(draws, [low, high])
        return Interval(estimate, float(lo), float(hi))

    # The old name, kept for callers outside this module.
    _interval = interval

    def mean_draws(self, values: FloatArray) -> FloatArray:
        """The mean of every resample of `values` (one matrix-vector product)."""
        v = np.asarray(values, dtype=np.float64)
        return (v.astype(np.float32) @ self.counts(v.size) / v.size).astype(np.float64)

    def mean(self, values: FloatArray) -> Interval:
        """The mean of `values` with its BCa CI."""
        v = np.asarray(values, dtype=np.float64)
        if v.size == 0:
            return Interval(math.nan, math.nan, math.nan)
        jack = (v.sum() - v) / (v.size - 1) if v.size > 1 else None
        return self.interval(float(v.mean()), self.mean_draws(v), jack)

    def mean_diff(self, a: FloatArray, b: FloatArray) -> Interval:
        """Mean of b - a over pairs, with its CI."""
        d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
        return self.mean(d)

    def percentiles(self, values: FloatArray, qs: tuple[float, ...]) -> FloatArray:
        """Percentiles `qs` (numpy's linear method) of every resample: (resamples x len(qs))."""
        values = np.asarray(values, dtype=np.float64)
        n = values.size
        order = np.argsort(values, kind="stable")
        ranked = values[order]
        # Running draw counts over the sorted values (exact in float32 up to 2**24 pairs).
        cum = self.counts(n)[order]
        np.cumsum(cum, axis=0, out=cum)
        out = np.empty((self.resamples, len(qs)))
        for j, q in enumerate(qs):
            h = (n - 1) * q / 100.0
            lo = math.floor(h)
            # The resample's r-th smallest value (0-based) is ranked[#(cum <= r)].
            v_lo = ranked[(cum <= lo).sum(axis=0)]
            v_hi = ranked[(cum <= min(lo + 1, n - 1)).sum(axis=0)]
            out[:, j] = v_lo + (h - lo) * (v_hi - v_lo)
        return out

    def percentile_diff(
        self, a: FloatArray, b: FloatArray, qs: tuple[float, ...] = (50.0, 95.0)
    ) -> list[tuple[Interval, Interval | None]]:
        """For each percentile q: (B - A, and (B / A - 1) in %) with CIs, pairs resampled
        together. The relative interval is `None` when A's percentile is 0."""
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.size == 0:
            nan = Interval(math.nan, math.nan, math.nan)
            return [(nan, None) for _ in qs]
        pa, pb = self.percentiles(a, qs), self.percentiles(b, qs)
        result: list[tuple[Interval, Interval | None]] = []
        for j, q in enumerate(qs):
            ea, eb = float(np.percentile(a, q)), float(np.percentile(b, q))
            ja, jb = jackknife_percentile(a, q), jackknife_percentile(b, q)
            absolute = self.interval(eb - ea, pb[:, j] - pa[:, j],
                                     None if ja is None or jb is None else jb - ja)
            relative = None
            if ea > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel_draws = (pb[:, j] / pa[:, j] - 1.0) * 100.0
                    rel_jack = (None if ja is None or jb is None or (ja <= 0).any()
                                else (jb / ja - 1.0) * 100.0)
                relative = self.interval((eb / ea - 1.0) * 100.0, rel_draws, rel_jack)
            result.append((absolute, relative))
        return result


def jackknife_percentile(values: FloatArray, q: float) -> FloatArray | None:
    """The q-th percentile (numpy's linear method) of `values` without each value in turn:
    leaving out the value at sorted rank r shifts every rank at or above r by one, so each
    leave-one-out percentile is read off the one sorted copy. None below 2 values."""
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    if n < 2:
        return None
    order = np.argsort(v, kind="stable")
    ranked = v[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    h = (n - 2) * q / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, n - 2)
    v_lo = ranked[lo + (lo >= rank)]
    v_hi = ranked[hi + (hi >= rank)]
    out: FloatArray = v_lo + (h - lo) * (v_hi - v_lo)
    return out


def bca_levels(estimate: float, draws: FloatArray, jackknife: FloatArray | None,
               confidence: float = 0.95, expand_n: int | None = None) -> tuple[float, float]:
    """The BCa interval's two quantile levels of the bootstrap distribution (Efron and
    Tibshirani 1993, ch. 14; as `scipy.stats.bootstrap(method="BCa")`).

    z0 (bias) is the normal quantile of the share of draws below the estimate, a draw equal
    to it counting half (means of a few discrete scores often equal the estimate exactly,
    and counting those as "above" would shift the interval); the acceleration is the
    jackknife skewness, sum(d^3) / (6 sum(d^2)^1.5) with d = mean(jackknife) - jackknife.
    """
    b = draws.size
    # float32 resample means: a draw within rounding of the estimate counts as equal to it.
    tol = 1e-6 * max(1.0, abs(estimate), float(np.max(np.abs(draws))))
    below = float(np.sum(draws < estimate - tol)) + 0.5 * float(
        np.sum(np.abs(draws - estimate) <= tol))
    share = min(max(below / b, 0.5 / b), 1.0 - 0.5 / b)
    z0 = float(sps.norm.ppf(share))
    accel = 0.0
    if jackknife is not None and jackknife.size > 1 and np.isfinite(jackknife).all():
        dev = jackknife.mean() - jackknife
        denom = 6.0 * float(np.sum(dev**2)) ** 1.5
        accel = float(np.sum(dev**3)) / denom if denom > 0 else 0.0
    tail = (1.0 - confidence) / 2.0
    z = float(sps.norm.ppf(1.0 - tail))
    if expand_n is not None and expand_n > 2:
        # Hesterberg's small-sample expansion: the bootstrap spread of a mean is its plug-in
        # SE (divisor n, normal quantile); widen to sqrt(n/(n-1)) * t_{n-1}.
        z = math.sqrt(expand_n / (expand_n - 1)) * float(sps.t.ppf(1.0 - tail, expand_n - 1))
    levels = []
    for z_alpha in (-z, z):
        shifted = z0 + z_alpha
        gap = 1.0 - accel * shifted
        # A huge acceleration would fold the level over; the percentile level is then
        # the honest fallback.
        levels.append(float(sps.norm.cdf(z0 + shifted / gap)) if gap > 0
                      else float(sps.norm.cdf(z_alpha)))
    return levels[0], levels[1]


def is_zero_one(*arrays: npt.ArrayLike) -> bool:
    """Every value of every array is 0 or 1 (and there is at least one): a proportion,
    whose interval is a score interval (`wilson`, `paired_proportion_diff`), not the
    bootstrap's."""
    values = [np.asarray(a, dtype=np.float64) for a in arrays]
    # Within rounding: a token F1 of 1 is 2pr / (p + r), 0.9999999999999999 for some answers.
    return any(v.size for v in values) and all(
        bool(((np.abs(v) <= 1e-9) | (np.abs(v - 1.0) <= 1e-9)).all()) for v in values)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """The share `successes / trials` with its Wilson score interval (Wilson 1927; as
    statsmodels' `proportion_confint(method="wilson")`).

    For a mean of 0/1 values (a stack's F1 when every answer scores 0 or 1) the bootstrap's
    interval is the Wald interval in disguise: it covered 0.924-0.938 in `make calibrate`;
    Wilson's exact binomial coverage at the simulator's rates (0.495 and 0.64) is
    0.943-0.957 at n = 30, 68 and 200."""
    # why here: statsmodels takes seconds to import
    from statsmodels.stats.proportion import proportion_confint

    if trials <= 0:
        return Interval(math.nan, math.nan, math.nan)
    low, high = (float(x) for x in proportion_confint(successes, trials,
                                                      alpha=1.0 - confidence,
                                                      method="wilson"))
    # Exact at the edges: 0 of n and n of n reach 0 and 1 (statsmodels' float 1 - 1e-16
    # would leave the share itself outside its interval).
    return Interval(successes / trials, 0.0 if successes == 0 else max(low, 0.0),
                    1.0 if successes == trials else min(high, 1.0))


def paired_proportion_diff(a_correct: npt.ArrayLike, b_correct: npt.ArrayLike,
                           confidence: float = 0.95) -> Interval:
    """The difference of two paired proportions (share of B's 1s minus A's, over pairs)
    with Newcombe's square-and-add interval (Newcombe 1998, method 10; as
    `Newcombe_square_and_add_CI_paired_2x2` in Fagerland, Lydersen and Laake's
    contingencytables): each proportion's Wilson score interval (statsmodels), combined
    with the correction for the correlation of the pairs.

    The bootstrap fails here: a paired difference of 0/1 outcomes has few distinct values,
    and one of rare events (a 1% error rate) is mostly 0, so its BCa interval covered the
    true difference only 0.88-0.93 of the time at n=30-200; this one holds its level there
    and is still defined when no pair differs (then it is as wide as the Wilson
    intervals)."""
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    n = int(a.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    both, b_only = int((a & b).sum()), int((b & ~a).sum())
    a_only, neither = int((a & ~b).sum()), int((~a & ~b).sum())
    p_b, p_a = (both + b_only) / n, (both + a_only) / n
    wb, wa = wilson(both + b_only, n, confidence), wilson(both + a_only, n, confidence)
    lo_b, hi_b, lo_a, hi_a = wb.low, wb.high, wa.low, wa.high
    # The correlation of the two proportions, with Newcombe's continuity correction of
    # the cross-product: 0 for small positive ones, never below the plain negative one.
    margins = (both + b_only) * (a_only + neither) * (both + a_only) * (b_only + neither)
    phi = 0.0
    if margins > 0:
        cross = both * neither - b_only * a_only
        corrected = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
        phi = corrected / math.sqrt(margins)
    diff = p_b - p_a
    down = math.sqrt(max((p_b - lo_b) ** 2 + (hi_a - p_a) ** 2
                         - 2 * phi * (p_b - lo_b) * (hi_a - p_a), 0.0))
    up = math.sqrt(max((p_a - lo_a) ** 2 + (hi_b - p_b) ** 2
                       - 2 * phi * (p_a - lo_a) * (hi_b - p_b), 0.0))
    return Interval(diff, max(diff - down, -1.0), min(diff + up, 1.0))


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on paired binary outcomes."""

    a_only: int
    """Pairs where only A is correct."""
    b_only: int
    """Pairs where only B is correct."""
    statistic: float | None
    p_value: float
    method: Literal["exact", "chi2", "none"]


def mcnemar(a_correct: npt.ArrayLike, b_correct: npt.ArrayLike, exact_below: int = 25) -> McNemar:
    """Two-sided McNemar test: an exact binomial test on the discordant pairs when they
    are fewer than `exact_below`, else chi-square (1 dof) with continuity correction."""
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    discordant = a_only + b_only
    if discordant == 0:
        return McNemar(a_only, b_only, None, 1.0, "none")
    if discordant < exact_below:
        p = sps.binomtest(b_only, discordant, 0.5).pvalue
        return McNemar(a_only, b_only, None, float(p), "exact")
    stat = (abs(a_only - b_only) - 1) ** 2 / discordant
    return McNemar(a_only, b_only, float(stat), float(sps.chi2.sf(stat, 1)), "chi2")


@dataclass(frozen=True)
class WinTieLoss:
    """Per-question outcomes of a paired comparison."""

    a_wins: int
    b_wins: int
    ties: int


def outcomes(a: FloatArray, b: FloatArray, *, higher_is_better: bool,
             rel_tol: float = 0.0) -> list[Literal["A", "B", "tie"]]:
    """Who wins each pair: a tie when |b - a| <= rel_tol * max(|a|, |b|) (or both equal)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    tol = np.maximum(rel_tol * np.maximum(np.abs(a), np.abs(b)), 1e-12)
    better_b = (b - a > tol) if higher_is_better else (a - b > tol)
    better_a = (a - b > tol) if higher_is_better else (b - a > tol)
    return ["B" if wb else "A" if wa else "tie" for wa, wb in zip(better_a, better_b, strict=True)]


def win_tie_loss(results: list[Literal["A", "B", "tie"]]) -> WinTieLoss:
    """Count the outcomes."""
    return WinTieLoss(results.count("A"), results.count("B"), results.count("tie"))


#: Two latencies within this share of the larger are a tie: the one rule behind every
#: "faster on N of M questions" (the scorecard's wins, its ratio line and the choice).
LATENCY_TIE = 0.05


def faster_count(baseline: npt.ArrayLike, candidate: npt.ArrayLike, *,
                 higher_is_better: bool = False, rel_tol: float = LATENCY_TIE) -> WinTieLoss:
    """Per-pair latency outcomes under the one tie rule: `b_wins` counts the pairs where the
    candidate was faster (higher, for tok/s) by more than `rel_tol`, `a_wins` where the
    baseline was, `ties` the rest. Pairs with a missing value are left out."""
    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    return win_tie_loss(outcomes(a[keep], b[keep], higher_is_better=higher_is_better,
                                 rel_tol=rel_tol))


def sign_flip_test(diffs: npt.ArrayLike, *, exact_up_to: int = 16, draws: int = 20000,
                   seed: int = 20240521) -> float:
    """Two-sided paired permutation test of mean(diffs) == 0 (random sign flips).

    The percentile bootstrap is too narrow with few pairs (with 6 pairs it can exclude 0
    where nothing is going on); this test is exact for up to `exact_up_to` non-zero
    differences and Monte Carlo (fixed seed) above, so a difference is called only when both
    the CI excludes 0 and p < 0.05.
    """
    d = np.asarray(diffs, dtype=np.float64)
    d = d[np.isfinite(d) & (d != 0)]
    n = d.size
    if n == 0:
        return 1.0
    observed = abs(d.sum()) - 1e-12 * max(1.0, float(np.abs(d).sum()))
    if n <= exact_up_to:
        patterns = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2 - 1
    else:
        rng = np.random.default_rng(seed)
        patterns = rng.choice(np.array([-1, 1]), size=(draws, n))
    sums = np.abs(patterns @ d)
    hits = int(np.sum(sums >= observed))
    if n <= exact_up_to:
        return hits / int(patterns.shape[0])  # all patterns, the observed one too: exact
    return monte_carlo_p(hits, draws)


def monte_carlo_p(hits: int, draws: int) -> float:
    """A Monte Carlo p-value, (1 + hits) / (1 + draws): the observed data counts as one of
    the draws, so the p-value is never 0 and the test keeps its level (Davison and Hinkley
    1997, eq. 4.11; North et al. 2002)."""
    return (1.0 + hits) / (1.0 + draws)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (as statsmodels' `multipletests(method=
    "fdr_bh")`): the i-th smallest of m (1-based) times m / i, made monotone from the
    largest down, capped at 1. Rejecting those below q keeps the false discovery rate at q."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return [float(x) for x in out]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (as statsmodels' `multipletests(method="holm")`).

    Sort the m p-values; the i-th smallest (0-based) is multiplied by m - i, adjusted values
    are made monotone with a running maximum and capped at 1. A test is rejected at level
    alpha when its adjusted p-value is below alpha: the same as comparing the i-th smallest
    with alpha / (m - i).
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return [float(x) for x in out]


@dataclass(frozen=True)
class RatioSummary:
    """A paired latency comparison: the median of per-pair ratios with its CI, and how
    many pairs favoured each stack."""

    ratio: Interval
    """candidate / baseline - 1, in %: exp(median of log ratios) - 1."""
    better: int
    """Pairs where the candidate was better (lower, or higher when higher is better) by
    more than `LATENCY_TIE`."""
    worse: int
    n: int
    p_value: float
    """Two-sided sign test on better vs worse (exact binomial; tied pairs left out)."""
    ties: int = 0
    """Pairs within `LATENCY_TIE` of each other."""


def median_ratio(boot: PairedBootstrap, baseline: FloatArray, candidate: FloatArray, *,
                 higher_is_better: bool = False) -> RatioSummary | None:
    """The median of per-pair log ratios (candidate / baseline) with a bootstrap CI, the
    share of pairs that were better, and a sign test: a headline that, unlike p95 from a
    few dozen samples, does not flip between identical runs. None without positive pairs."""
    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return None
    logs = np.log(b) - np.log(a)
    draws = boot.percentiles(logs, (50.0,))[:, 0]
    iv = boot.interval(float(np.median(logs)), draws, jackknife_percentile(logs, 50.0))
    pct = Interval((math.exp(iv.estimate) - 1) * 100, (math.exp(iv.low) - 1) * 100
                   if not math.isnan(iv.low) else math.nan,
                   (math.exp(iv.high) - 1) * 100 if not math.isnan(iv.high) else math.nan)
    count = faster_count(a, b, higher_is_better=higher_is_better)
    better, worse = count.b_wins, count.a_wins
    decided = better + worse
    p = float(sps.binomtest(better, decided, 0.5).pvalue) if decided else 1.0
    return RatioSummary(pct, better, worse, int(a.size), p, count.ties)


def min_detectable_difference(boot: PairedBootstrap, baseline: FloatArray,
                              candidate: FloatArray, *, alpha: float = 0.05,
                              power: float = 0.8) -> float | None:
    """The smallest |mean difference| a paired comparison of this size and spread would
    detect with `power` at two-sided level `alpha`: (z_{1-alpha/2} + z_power) * SE, with SE
    the standard deviation of the paired bootstrap's mean differences."""
    d = np.asarray(candidate, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size < 2:
        return None
    se = float(np.std(boot.mean_draws(d), ddof=1))
    if se == 0.0:
        # No spread at all (e.g. identical answers): fall back on the worst case of a
        # binary-like metric, so "0" is never claimed as detectable.
        se = 0.5 / math.sqrt(d.size)
    return float((sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)) * se)
