"""Breaking a tie on quality: by cost, then by latency, only where the difference is real.

Among the stacks that are possibly best on quality (`report.topset`), every pair is
compared on cost per answer (`report.costs`: paired bootstrap of the ratio) and on total
E2E (the paired ratio of mean E2E over the questions both answered, bootstrap CI), and all
those tests form one Holm family. A stack leaves the running when another is significantly
cheaper; of the rest, one leaves when another is significantly faster on the mean and the
median and p95 point the same way (where they disagree the pair is "mixed", never
"faster"). One stack left is the choice; several are "no clear winner", with the questions
it would take to tell the closest pair apart. Stacks with identical cost or E2E on every
question are one class in the family, so an exact copy of a stack changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from workbench.report.adjusted import BootstrapTest, Decided, bootstrap_test, holm_decide
from workbench.report.costs import cost_ratio
from workbench.scoring.stats import PairedBootstrap, faster_count

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LatencyPair:
    """b against a on E2E, over the questions both answered successfully."""

    mean: BootstrapTest
    """log(sum of b's E2E / sum of a's): the ratio of mean (total) E2E."""
    median_pct: float
    """exp(median of per-question log ratios) - 1, in %."""
    p95_pct: float | None
    """b's p95 E2E / a's - 1, in % (descriptive: no CI)."""
    faster: int
    """Questions where b was faster by more than the tie rule's share."""
    n: int

    @property
    def mixed(self) -> bool:
        """Mean, median and p95 point in different directions."""
        signs = {math.copysign(1, x) for x in (self.mean.estimate, self.median_pct,
                                                self.p95_pct) if x is not None and x != 0}
        return len(signs) > 1


def latency_pair(boot: PairedBootstrap, e2e_a: FloatArray, e2e_b: FloatArray
                 ) -> LatencyPair | None:
    """b against a on the questions where both have an E2E (None without any)."""
    keep = np.isfinite(e2e_a) & np.isfinite(e2e_b) & (e2e_a > 0) & (e2e_b > 0)
    a, b = e2e_a[keep], e2e_b[keep]
    if a.size == 0:
        return None
    counts = boot.counts(a.size)
    sums = (np.stack([a, b]).astype(np.float32) @ counts).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = np.log(sums[1]) - np.log(sums[0])
    test = bootstrap_test(math.log(b.sum() / a.sum()), draws, int(a.size))
    median = (math.exp(float(np.median(np.log(b) - np.log(a)))) - 1) * 100
    pa = float(np.percentile(a, 95))
    p95 = (float(np.percentile(b, 95)) / pa - 1) * 100 if a.size >= 2 and pa > 0 else None
    return LatencyPair(test, median, p95, faster_count(a, b).b_wins, int(a.size))


def pct(x: float) -> str:
    """A log ratio as a signed percentage ("-40%")."""
    if not math.isfinite(x):
        return "-100%" if x < 0 else "+inf%"
    return f"{(math.exp(x) - 1) * 100:+.0f}%"


def latency_text(lat: LatencyPair, level: float, rival: str) -> str:
    """"vs A: faster: mean E2E -40% [-41%, -39%] (95% CI), median -40%, p95 -38%, faster
    on 120 of 120 questions"; "mixed" where mean, median and p95 disagree."""
    lo, hi = lat.mean.interval(level)
    if lat.mean.draws.size and lat.mean.draws[0] == lat.mean.draws[-1] == 0:
        return f"vs {rival}: the same E2E on every question ({lat.n})"
    if lat.mixed:
        word = "mixed"
    elif lat.mean.rejects(level):
        word = "faster" if lat.mean.estimate < 0 else "slower"
    else:
        word = "no significant E2E difference"
    p95 = "" if lat.p95_pct is None else f", p95 {lat.p95_pct:+.0f}%"
    return (f"vs {rival}: {word}: mean E2E {pct(lat.mean.estimate)} [{pct(lo)}, {pct(hi)}] "
            f"({_level(level)} CI), median {lat.median_pct:+.0f}%{p95}, faster on "
            f"{lat.faster} of {lat.n} questions")


def _level(level: float) -> str:
    return f"{(1 - level) * 100:.4g}%"


@dataclass(frozen=True)
class _Pair:
    kind: str
    """"cost" or "latency"."""
    a: int
    b: int
    test: BootstrapTest
    mixed: bool = False


@dataclass
class TieBreak:
    """What separated the possibly-best stacks, and what did not."""

    left: list[str]
    """Stacks still in the running (one: the choice)."""
    cost_out: dict[str, str] = field(default_factory=dict)
    """Stack -> the stack significantly cheaper than it."""
    latency_out: dict[str, str] = field(default_factory=dict)
    """Stack -> the stack significantly faster than it."""
    levels: dict[tuple[str, str, str], float] = field(default_factory=dict)
    """(kind, a, b) -> the level the pair was decided at."""
    family: int = 0
    """Tests in the tie-break's Holm family."""
    unsettled: str = ""
    """For no clear winner: the closest undecided pair, and the questions it would take."""


def _classes(keys: Sequence[bytes]) -> list[int]:
    """Index of each member's class: the first member with the same data."""
    first: dict[bytes, int] = {}
    return [first.setdefault(k, i) for i, k in enumerate(keys)]


def break_tie(names: list[str], boot: PairedBootstrap, alpha: float, *,
              costs: dict[str, FloatArray] | None, ok: dict[str, BoolArray],
              e2e: dict[str, FloatArray]) -> TieBreak:
    """Separate `names` (tied on quality) by cost (when every one has `costs` of the same
    kind, per question) and then by latency (see the module docstring)."""
    names = sorted(names)  # pairs and lines read the same whatever the run's order
    k = len(names)
    cls = {"cost": _classes([costs[s].tobytes() + ok[s].tobytes() for s in names])
           if costs is not None else list(range(k)),
           "latency": _classes([e2e[s].tobytes() for s in names])}
    pairs: list[_Pair] = []
    for i in range(k):
        for j in range(i + 1, k):
            if costs is not None and cls["cost"][i] == i and cls["cost"][j] == j:
                pairs.append(_Pair("cost", i, j, cost_ratio(
                    boot, costs[names[i]], ok[names[i]], costs[names[j]], ok[names[j]])))
            if cls["latency"][i] == i and cls["latency"][j] == j:
                lat = latency_pair(boot, e2e[names[i]], e2e[names[j]])
                if lat is not None:
                    pairs.append(_Pair("latency", i, j, lat.mean, lat.mixed))
    decided = holm_decide([p.test for p in pairs], alpha)
    out = TieBreak(left=[], family=len(pairs))
    # (kind, winner's class, loser's class) of every significant, unmixed difference.
    wins: list[tuple[str, int, int]] = []
    for p, d in zip(pairs, decided, strict=True):
        out.levels[(p.kind, names[p.a], names[p.b])] = d.level
        if d.rejected and not p.mixed:
            wins.append((p.kind, *((p.a, p.b) if p.test.estimate > 0 else (p.b, p.a))))

    def beaten(kind: str, among: list[int]) -> dict[str, str]:
        """Member -> the (alphabetically first) member of `among` significantly better
        than it on `kind`."""
        c = cls[kind]
        found: dict[str, str] = {}
        for what, w, lo in wins:
            winners = [names[x] for x in among if c[x] == c[w]] if what == kind else []
            for m in among:
                if winners and c[m] == c[lo]:
                    found[names[m]] = min([*winners, found.get(names[m], winners[0])])
        return found

    running = list(range(k))
    out.cost_out = beaten("cost", running)
    running = [m for m in running if names[m] not in out.cost_out]
    out.latency_out = beaten("latency", running)
    running = [m for m in running if names[m] not in out.latency_out]
    out.left = [names[m] for m in running]
    if len(running) > 1:
        out.unsettled = _unsettled(pairs, decided, set(running), names)
    return out


def _unsettled(pairs: list[_Pair], decided: list[Decided], running: set[int],
               names: list[str]) -> str:
    """The undecided pair among `running` that the fewest extra questions would settle."""
    best: tuple[float, str] | None = None
    for p, d in zip(pairs, decided, strict=True):
        if p.a not in running or p.b not in running or (d.rejected and not p.mixed):
            continue
        what = "cost per answer" if p.kind == "cost" else "mean E2E"
        n = None if p.mixed else p.test.n_to_detect(d.level)
        if p.mixed:
            need, text = math.inf, (f"{names[p.b]} vs {names[p.a]}: latency is mixed "
                                    "(mean, median and p95 disagree)")
        elif n is None:
            continue
        else:
            need, text = float(n), (f"{names[p.b]} vs {names[p.a]}: {what} "
                                    f"{pct(p.test.estimate)}; about {n} questions would "
                                    "tell a difference that size apart, if it is real")
        if best is None or (need, text) < best:
            best = (need, text)
    return best[1] if best else "they measured the same on cost and E2E"
