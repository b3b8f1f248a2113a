"""Which stacks are possibly best on answer quality: built from every pairwise comparison
at once, so it depends neither on the order of the stacks nor on copies of one.

Every pair of stacks is compared on mean F1 over the same questions (those every compared
stack answered), with the paired sign-flip test and its inverted interval
(`report.adjusted.SignFlipTest`). All pairs form one Holm family; a stack is "possibly
best" unless some other stack is significantly better than it. Stacks whose F1 is the same
on every question are one class: they are compared once, so adding an exact copy of a stack
leaves the family, and every decision, as it was. Below the possibly-best set, the same
rule applied to the rest gives the second tier, and so on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from workbench.report.adjusted import Decided, SignFlipTest, holm_decide, sign_flip_tests

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class QualityPair:
    """b against a on mean F1 over the shared questions."""

    a: str
    b: str
    estimate: float
    """mean F1 of b - mean F1 of a."""
    low: float
    high: float
    level: float
    """The (Holm) level it was decided at: the interval is the (1 - level) one."""
    p_holm: float
    better: str | None
    """The significantly better stack, if any."""
    identical: bool = False
    """Same F1 on every question."""
    test: SignFlipTest | None = field(default=None, repr=False, compare=False)
    """The pair's sign-flip test (its spread serves either direction; None: identical, or
    nothing to compare)."""

    def flipped(self) -> QualityPair:
        """The same comparison read as a against b."""
        return QualityPair(self.b, self.a, -self.estimate, -self.high, -self.low, self.level,
                           self.p_holm, self.better, self.identical, self.test)

    def upper_bound(self, level: float) -> float:
        """The one-sided (1 - level) upper bound of mean F1 of b - mean F1 of a: 0 when
        identical, inf when nothing can bound it. The sign-flip distribution is symmetric,
        so its two-sided critical value at 2 x level is the one-sided one at level."""
        if self.identical:
            return 0.0
        if self.test is None or math.isnan(self.estimate):
            return math.inf
        return self.estimate + self.test.half_width(2 * level)

    def text(self) -> str:
        """"+0.150 [+0.033, +0.267] (98.33% CI, Holm p 0.004)" (-0.000 shown as +0.000)."""
        if self.identical:
            return "+0.000 (the same F1 on every question)"
        if math.isnan(self.estimate):
            return "(no shared question with a gold answer to compare F1 on)"
        est, low, high = (x + 0.0 for x in (self.estimate, self.low, self.high))
        return (f"{est:+.3f} [{low:+.3f}, {high:+.3f}] ({(1 - self.level) * 100:.4g}% CI, "
                f"Holm p {self.p_holm:.2g})")


@dataclass
class TopSet:
    """Every stack's tier on quality (1: possibly best) and every pair's comparison."""

    n: int
    """Questions every compared stack answered (the pairs' sample)."""
    means: dict[str, float]
    tier: dict[str, int]
    family: int
    """Comparisons in the Holm family (pairs of distinct classes)."""
    pairs: dict[tuple[str, str], QualityPair] = field(default_factory=dict)

    def pair(self, a: str, b: str) -> QualityPair:
        """b against a."""
        if (a, b) in self.pairs:
            return self.pairs[(a, b)]
        return self.pairs[(b, a)].flipped()

    def beaten_by(self, stack: str) -> list[str]:
        """Stacks significantly better than `stack`, alphabetically."""
        return sorted(o for o in self.means if o != stack and self.pair(o, stack).better == o)

    @property
    def best(self) -> list[str]:
        """The possibly-best stacks, alphabetically."""
        return sorted(s for s, t in self.tier.items() if t == 1)


def top_set(names: list[str], f1: FloatArray, *, alpha: float, draws: int,
            seed: int) -> TopSet:
    """Tiers and pairwise comparisons of `names` from their F1 on the shared questions
    (`f1`: questions x stacks, in `names`' order, no NaN)."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    names = [names[i] for i in order]
    f1 = np.asarray(f1, dtype=np.float64)[:, order] if f1.size else np.zeros((0, len(names)))
    n, k = f1.shape[0], len(names)
    first: dict[bytes, int] = {}
    cls = [first.setdefault(f1[:, i].tobytes(), i) for i in range(k)]
    reps = [(i, j) for i in range(k) for j in range(i + 1, k) if cls[i] == i and cls[j] == j]
    tests: list[SignFlipTest] = []
    if reps and n:
        diffs = np.stack([f1[:, j] - f1[:, i] for i, j in reps], axis=1)
        tests = sign_flip_tests(diffs, draws=draws, seed=seed)
    decided = holm_decide(tests, alpha)
    means = {s: float(f1[:, i].mean()) if n else math.nan for i, s in enumerate(names)}
    out = TopSet(n=n, means=means, tier={}, family=len(tests))
    by_rep: dict[tuple[int, int], tuple[SignFlipTest, Decided]] = dict(
        zip(reps, zip(tests, decided, strict=True), strict=False))
    for i in range(k):
        for j in range(i + 1, k):
            out.pairs[(names[i], names[j])] = _pair(names, i, j, cls, by_rep, n)
    _tiers(out, names)
    return out


def _pair(names: list[str], i: int, j: int, cls: list[int],
          by_rep: dict[tuple[int, int], tuple[SignFlipTest, Decided]], n: int) -> QualityPair:
    ci, cj = cls[i], cls[j]
    if ci == cj or n == 0:
        return QualityPair(names[i], names[j], 0.0 if n else math.nan, 0.0 if n else math.nan,
                           0.0 if n else math.nan, 1.0, 1.0, None, identical=bool(n))
    key, flip = ((ci, cj), False) if ci < cj else ((cj, ci), True)
    test, d = by_rep[key]
    low, high = test.interval(d.level)
    est = test.estimate
    if flip:
        est, low, high = -est, -high, -low
    better = (names[j] if est > 0 else names[i]) if d.rejected else None
    return QualityPair(names[i], names[j], est, low, high, d.level, d.p_holm, better,
                       test=test)


def _tiers(out: TopSet, names: list[str]) -> None:
    """Tier 1: beaten by no stack; tier t: beaten by none of the stacks left after t - 1."""
    left, tier = set(names), 1
    while left:
        unbeaten = {s for s in left
                    if not any(out.pair(o, s).better == o for o in left if o != s)}
        # The best mean of those left is never beaten: every tier has someone in it.
        for s in unbeaten:
            out.tier[s] = tier
        left -= unbeaten
        tier += 1
