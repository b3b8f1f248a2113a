"""The recommendation: which stack to choose, and one reason line per candidate.

1. The constraints give the feasible set: a stack is feasible when it meets every one on
   its whole 95% interval (`report.constraints`), the baseline included.
2. Every comparison uses the questions every feasible stack answered. When they are fewer
   than `MIN_COVERAGE` of the eval set, the choice is refused, naming each stack's count
   (the ranking below is still shown, over those questions).
3. Quality (`report.topset`): every pair compared on mean F1, paired sign-flip test, all
   pairs Holm-corrected; "possibly best" = no other stack significantly better. The tiers
   below are the same rule on the rest.
4. Among the possibly best (`report.tiebreak`): cost per answer, then the paired ratio of
   mean E2E, every pair of the group in one Holm family; a stack is chosen only when it is
   the one left; otherwise "no clear winner", saying what would separate them.
5. Speed or price may only choose between stacks that are shown to answer about as well:
   the one left after the tie-break is chosen only when it is non-inferior on F1 to every
   other possibly-best stack (the one-sided upper bound of its paired F1 drop below
   `TIE_MARGIN`, 0.05 F1 unless the matrix's `choice.tie_margin` says otherwise). An F1 gap
   that is merely not significant is not a tie: a stack truly 0.15 worse and 30% faster was
   chosen in 57-87% of simulated runs at n=30-68 without this step.

One error budget, `ALPHA` = 0.05, split (Bonferroni) between the two places a winner can
come from: `QUALITY_ALPHA` (0.04) for the F1 comparisons of every pair (one Holm family)
and `TIE_BREAK_ALPHA` (0.01) for the tie-break (cost and latency of every pair of the
possibly best, one Holm family) and its non-inferiority bounds. Among identical stacks a
winner needs a false rejection in one of the two, so it is named in at most 5% of runs
(with 5% for each stage it was 10-17% at n=68-200). The non-inferiority bounds are an
intersection-union test (every one must hold), which keeps its level without a further
split, so a stack truly worse by more than the margin is chosen for its speed in at most
1% of runs.

Nothing depends on the order of the stacks, and an exact copy of a stack changes nothing
about the others: identical stacks are one class in every family.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from workbench.records.manifest import ManifestLike, read_manifest
from workbench.report.constraints import Constraint
from workbench.report.costs import CostBasis, cost_basis, cost_ratio, own_cost, question_costs
from workbench.report.models import QuestionRow, ScoreCard
from workbench.report.tiebreak import TieBreak, break_tie, latency_pair, latency_text, pct
from workbench.report.topset import TopSet, top_set
from workbench.report.verdict import PRIMARY_QUALITY
from workbench.scoring.stats import PairedBootstrap

#: The choice's whole error budget, and its split between the quality stage and the
#: tie-break (see the module docstring).
ALPHA = 0.05
QUALITY_ALPHA = 0.04
TIE_BREAK_ALPHA = ALPHA - QUALITY_ALPHA
#: The F1 a stack chosen for its cost or speed may be shown to lose, at most, against any
#: other possibly-best stack (the matrix's `choice.tie_margin` overrides it).
TIE_MARGIN = 0.05
#: Below this share of the eval set answered by every feasible stack, no choice is made.
MIN_COVERAGE = 0.9
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Ranked:
    """One stack's place in the choice."""

    stack: str
    rank: int | None = None
    group: int | None = None
    """Quality tier: 1 = possibly best; stacks of one tier are statistically tied."""
    feasible: bool = True
    failed: list[str] = field(default_factory=list)
    f1: float | None = None
    """Mean F1 over the questions every feasible stack answered (the paired sample)."""
    median_e2e_s: float | None = None
    cost_key: float | None = None
    cost_text: str = ""
    answered: int = 0
    """Questions this stack answered."""
    reason: str = ""


@dataclass
class Choice:
    """The recommendation: the chosen stack (None when no clear winner, none feasible or
    too few shared questions), a headline, and every stack ranked with its reason."""

    chosen: str | None
    headline: str
    ranked: list[Ranked]
    constraints: list[str]
    method: str
    shared: int = 0
    """Questions every feasible stack answered: each pairwise comparison's n."""
    refused: str | None = None
    """Why no choice is made at all (too few shared questions), else None."""
    pairs: list[str] = field(default_factory=list)
    """Every pair of feasible stacks on F1, with its n, interval and Holm p."""
    tie_margin: float = TIE_MARGIN
    """The F1 margin of the non-inferiority check behind a choice by cost or latency."""


@dataclass
class _Columns:
    """The card's per-question data, one array per stack (rows in card order)."""

    answered: dict[str, BoolArray]
    f1: dict[str, FloatArray]
    ok: dict[str, BoolArray]
    e2e: dict[str, FloatArray]
    correct: dict[str, FloatArray]


def _columns(card: ScoreCard) -> _Columns:
    def col(get: Callable[[QuestionRow, str], object]) -> dict[str, FloatArray]:
        return {s: np.array([_num(get(r, s)) for r in card.rows], dtype=np.float64)
                for s in card.stacks}

    answered = {s: np.array([r.status.get(s) is not None for r in card.rows], dtype=bool)
                for s in card.stacks}
    ok = {s: np.array([r.status.get(s) == "ok" for r in card.rows], dtype=bool)
          for s in card.stacks}
    e2e = col(lambda r, s: r.e2e.get(s))
    return _Columns(
        answered=answered,
        f1=col(lambda r, s: (r.scores.get(s) or {}).get(PRIMARY_QUALITY)),
        ok=ok, e2e={s: np.where(ok[s], e2e[s], np.nan) for s in card.stacks},
        correct=col(lambda r, s: (r.scores.get(s) or {}).get("gold_contained")))


def _num(x: object) -> float:
    return float(x) if isinstance(x, int | float) else math.nan


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def tie_margin_of(manifest: ManifestLike) -> float:
    """The matrix file's `choice.tie_margin` recorded with a run, else `TIE_MARGIN`."""
    choice = read_manifest(manifest).choice
    value = choice.tie_margin if choice is not None else None
    return TIE_MARGIN if value is None else float(value)


def recommend(card: ScoreCard, constraints: Sequence[Constraint] = (), *,
              resamples: int = 2000, seed: int = 20240521,
              tie_margin: float = TIE_MARGIN) -> Choice:
    """Rank the card's stacks and choose one (see the module docstring). `resamples` sets
    both the bootstrap's resamples and the sign-flip test's random patterns; `tie_margin`
    is the F1 a stack chosen for its cost or speed may be shown to lose at most."""
    if not 0 < tie_margin <= 1:
        raise ValueError(f"tie_margin: an F1 margin between 0 and 1, got {tie_margin}")
    # Many small matrix products: one BLAS thread. Measured under load (2 cores, load 20):
    # a (4 x 200) @ (200 x 2000) product took 13 ms threaded and 0.1 ms on one thread.
    with _blas().limit(limits=1, user_api="blas"):
        return _recommend(card, constraints, resamples, seed, tie_margin)


def _recommend(card: ScoreCard, constraints: Sequence[Constraint], resamples: int,
               seed: int, tie_margin: float) -> Choice:
    boot = PairedBootstrap(resamples=resamples, seed=seed)
    cols = _columns(card)
    ranked = [_feasibility(card, s, cols, constraints) for s in card.stacks]
    feasible = [r for r in ranked if r.feasible]
    infeasible = [r for r in ranked if not r.feasible]
    for r in infeasible:
        r.reason = f"{r.stack}: excluded, " + "; ".join(r.failed)
    labels = [c.label for c in constraints]
    if not feasible:
        excluded = ", ".join(r.stack for r in infeasible)
        return Choice(None, f"no stack meets every constraint ({excluded} excluded): nothing "
                      "to choose", infeasible, labels, _method(tie_margin),
                      tie_margin=tie_margin)
    names = [r.stack for r in feasible]
    shared = np.logical_and.reduce([cols.answered[s] for s in names])
    total = card.n_questions or len(card.rows)
    graded = shared & np.logical_and.reduce([np.isfinite(cols.f1[s]) for s in names])
    quality = top_set(names, np.stack([cols.f1[s][graded] for s in names], axis=1),
                      alpha=QUALITY_ALPHA, draws=resamples, seed=seed)
    best = quality.best
    costs = _costs(card, best, cols, shared)
    tie = break_tie(best, boot, TIE_BREAK_ALPHA, costs=costs,
                    ok={s: cols.ok[s][shared] for s in best},
                    e2e={s: cols.e2e[s][shared] for s in best})
    refused = _refusal(card, names, cols, int(shared.sum()), total)
    left = tie.left[0] if len(tie.left) == 1 else None
    bounds = _noninferior(left, best, quality, tie_margin) if left else []
    shown = all(b.holds for b in bounds)
    chosen = left if left and shown and refused is None else None
    order = _order(feasible, quality, tie)
    for i, r in enumerate(order, start=1):
        r.rank, r.group = i, quality.tier[r.stack]
        r.f1 = quality.means[r.stack] if quality.n else None
    ctx = _Context(quality, tie, costs, boot, cols, shared, chosen, left, bounds)
    for r in order:
        r.reason = _reason(r, order, ctx)
    headline = (refused if refused is not None
                else next(r.reason for r in order if r.stack == chosen) if chosen
                else _not_shown(left, bounds, tie, quality) if left and not shown
                else _no_winner(tie, quality))
    return Choice(chosen, headline, order + infeasible, labels,
                  _method(tie_margin) + f"; every comparison over the {int(shared.sum())} "
                  f"questions every feasible stack answered ({quality.n} with a gold answer)",
                  shared=int(shared.sum()), refused=refused,
                  pairs=[f"{b} vs {a}: F1 {p.text()}, n={quality.n}"
                         for (a, b), p in sorted(quality.pairs.items())],
                  tie_margin=tie_margin)


def _method(tie_margin: float) -> str:
    return (f"error budget {ALPHA:g}, split: {QUALITY_ALPHA:g} for quality, "
            f"{TIE_BREAK_ALPHA:g} for the tie-break; feasible = meets every constraint on "
            "its 95% interval; possibly best = no other stack has a significantly higher "
            "mean F1 (paired sign-flip test over every pair, Holm-corrected; intervals at the "
            "level each pair was decided at); among those, significantly cheaper per answer, "
            "then a significantly lower mean E2E (paired bootstrap of the ratio, every pair "
            "of the group in one Holm family, 'mixed' when mean, median and p95 disagree) "
            "decides, and only for a stack shown non-inferior on F1 to every other possibly "
            f"best one (one-sided {(1 - TIE_BREAK_ALPHA) * 100:.4g}% bound of its F1 drop "
            f"below {tie_margin:g}); otherwise no clear winner")


#: The method line with the default margin.
METHOD = _method(TIE_MARGIN)


@dataclass(frozen=True)
class NonInferior:
    """The stack left after the tie-break against another possibly-best stack on F1."""

    other: str
    drop: float
    """mean F1 of `other` - mean F1 of the stack left, over the shared questions."""
    bound: float
    """Its one-sided (1 - `TIE_BREAK_ALPHA`) upper bound."""
    margin: float
    n: int
    identical: bool

    @property
    def holds(self) -> bool:
        """The bound is below the margin: shown to answer at most `margin` worse."""
        return self.bound < self.margin

    @property
    def settle_n(self) -> int | None:
        """About how many questions would bring the bound below the margin at the same
        drop and spread (None when the drop itself is at or beyond the margin)."""
        spread = self.bound - self.drop
        if self.drop >= self.margin or not math.isfinite(spread) or self.n == 0:
            return None
        return max(self.n + 1, math.ceil(self.n * (spread / (self.margin - self.drop)) ** 2))

    def text(self) -> str:
        """"F1 drop +0.010 vs B, at most +0.041 (99% one-sided bound, margin 0.05)"."""
        if self.identical:
            return f"the same F1 as {self.other} on every question"
        bound = "no bound" if not math.isfinite(self.bound) else f"at most {self.bound:+.3f}"
        return (f"F1 drop {self.drop + 0.0:+.3f} vs {self.other}, {bound} "
                f"({(1 - TIE_BREAK_ALPHA) * 100:.4g}% one-sided bound, margin "
                f"{self.margin:g})")


def _noninferior(left: str, best: list[str], quality: TopSet,
                 margin: float) -> list[NonInferior]:
    """The stack left after the tie-break against every other possibly-best stack."""
    out = []
    for other in best:
        if other == left:
            continue
        p = quality.pair(left, other)  # other - left: the F1 `left` gives up
        out.append(NonInferior(other, p.estimate, p.upper_bound(TIE_BREAK_ALPHA), margin,
                               quality.n, p.identical))
    return out


def _feasibility(card: ScoreCard, stack: str, cols: _Columns,
                 constraints: Sequence[Constraint]) -> Ranked:
    s = card.summaries[stack]
    r = Ranked(stack=stack, median_e2e_s=s.latency["e2e"].p50 if "e2e" in s.latency else None,
               answered=int(cols.answered[stack].sum()))
    for c in constraints:
        judged = c.judge(s)  # met only on its whole 95% interval (report.limits)
        if not judged.met:
            r.failed.append(judged.text)
    if s.ok == 0:
        r.failed.append("no successful answer")
    r.feasible = not r.failed
    own = _own_cost_text(card, stack, cols)
    r.cost_key, r.cost_text = own
    return r


def _own_cost_text(card: ScoreCard, stack: str, cols: _Columns) -> tuple[float | None, str]:
    """(sort key, text): cost per 1,000 answers and per correct answer with 95% CIs over
    the stack's own answers (the point estimates are `Cost`'s), else CPU-s per answer."""
    s = card.summaries[stack]
    basis = cost_basis(s, cols.e2e[stack][cols.ok[stack]])
    if basis is None:
        return None, ""
    mine = cols.answered[stack]
    own = own_cost(PairedBootstrap(resamples=500, seed=1),
                   question_costs(basis, cols.e2e[stack][mine], cols.ok[stack][mine]),
                   cols.ok[stack][mine], cols.correct[stack][mine])
    if own is None:
        return None, ""
    lo, hi = own.per_1k_ci
    if basis.kind == "price":
        text = f"{own.per_1k:.2f} {basis.unit} per 1,000 answers [{lo:.2f}, {hi:.2f}]"
        if own.per_correct is not None and own.per_correct_ci is not None:
            clo, chi = own.per_correct_ci
            text += f", {own.per_correct:.4f} [{clo:.4f}, {chi:.4f}] per correct answer"
        return own.per_1k, text
    text = f"{own.per_1k / 1000:.2f} CPU-s per answer [{lo / 1000:.2f}, {hi / 1000:.2f}]"
    cost = s.cost
    if cost is not None and cost.peak_rss_mb is not None:
        text += f", peak RSS {cost.peak_rss_mb:.0f} MB"
    return own.per_1k / 1000, text


def _costs(card: ScoreCard, names: list[str], cols: _Columns, shared: BoolArray
           ) -> dict[str, FloatArray] | None:
    """Per-question costs on the shared questions, when every stack has one of one kind."""
    bases: dict[str, CostBasis] = {}
    for s in names:
        b = cost_basis(card.summaries[s], cols.e2e[s][cols.ok[s]])
        if b is None:
            return None
        bases[s] = b
    if len({(b.kind, b.unit) for b in bases.values()}) != 1:
        return None
    return {s: question_costs(bases[s], cols.e2e[s][shared], cols.ok[s][shared]) for s in names}


def _refusal(card: ScoreCard, names: list[str], cols: _Columns, shared: int,
             total: int) -> str | None:
    if total and shared >= MIN_COVERAGE * total:
        return None
    counts = ", ".join(f"{s} {int(cols.answered[s].sum())} of {total}" for s in sorted(names))
    return (f"no choice: only {shared} of {total} questions were answered by every feasible "
            f"stack ({counts}); a choice needs at least {MIN_COVERAGE:.0%} (finish or resume "
            f"the run); the ranking below is over those {shared}")


def _order(feasible: list[Ranked], quality: TopSet, tie: TieBreak) -> list[Ranked]:
    def key(r: Ranked) -> tuple[int, int, float, str]:
        s = r.stack
        step = 0 if s in tie.left else 1 if s in tie.latency_out else 2
        mean = quality.means[s]
        return (quality.tier[s], step if quality.tier[s] == 1 else 0,
                -mean if not math.isnan(mean) else 0.0, s)
    return sorted(feasible, key=key)


@dataclass
class _Context:
    quality: TopSet
    tie: TieBreak
    costs: dict[str, FloatArray] | None
    boot: PairedBootstrap
    cols: _Columns
    shared: BoolArray
    chosen: str | None
    left: str | None = None
    """The one stack the tie-break left (chosen only when `bounds` all hold)."""
    bounds: list[NonInferior] = field(default_factory=list)


def _top(names: list[str], quality: TopSet) -> str:
    """The highest mean F1 of `names` (alphabetical among equals)."""
    return min(names, key=lambda s: (-quality.means[s] if quality.n else 0.0, s))


def _reason(r: Ranked, order: list[Ranked], ctx: _Context) -> str:
    q, s = ctx.quality, r.stack
    f1 = "n/a" if r.f1 is None else f"{r.f1:.3f}"
    mates = [o.stack for o in order if o.group == r.group and o.stack != s]
    if r.group == 1 and mates:
        rival = ctx.chosen if ctx.chosen in mates else _top(mates, q)
        bits = [f"F1 {f1}, statistically tied with {rival} {q.pair(rival, s).text()}"]
    elif r.group == 1:
        others = [o.stack for o in order if o.stack != s]
        rival = _top(others, q) if others else s
        bits = [f"F1 {f1}, best: over {rival} by {q.pair(rival, s).text()}" if others
                else f"F1 {f1}, the only stack that meets every constraint"]
    else:
        beaters = q.beaten_by(s)
        rival = ctx.chosen if ctx.chosen in beaters else _top(beaters, q)
        bits = [f"F1 {f1}, worse than {rival} by {q.pair(rival, s).text()}"]
    if s in ctx.tie.cost_out:
        bits.append(f"costs more than {ctx.tie.cost_out[s]}")
    if s in ctx.tie.latency_out:
        bits.append(f"slower than {ctx.tie.latency_out[s]}")
    shown = [b for b in ctx.bounds if not b.identical]  # "the same F1" is said already
    if s == ctx.left and shown:
        held = all(b.holds for b in shown)
        bits.append(("non-inferior on F1: " if held else "not shown non-inferior on F1: ")
                    + ", ".join(b.text() for b in shown))
    if rival != s:
        bits += _versus(rival, s, ctx)
    if r.cost_text:
        bits.append(r.cost_text)
    verb = "choose" if s == ctx.chosen else f"#{r.rank}"
    return f"{verb} {s}: " + "; ".join(bits)


def _versus(rival: str, s: str, ctx: _Context) -> list[str]:
    """s against its rival on cost per answer and E2E, at the level the tie-break decided
    them (plain 95% outside it)."""
    a, b = sorted((rival, s))
    out = []
    if ctx.costs is not None and rival in ctx.costs and s in ctx.costs:
        t = cost_ratio(ctx.boot, ctx.costs[rival], ctx.cols.ok[rival][ctx.shared],
                       ctx.costs[s], ctx.cols.ok[s][ctx.shared])
        level = ctx.tie.levels.get(("cost", a, b), ALPHA)
        lo, hi = t.interval(level)
        text = f"cost per answer {pct(t.estimate)} [{pct(lo)}, {pct(hi)}]"
        right = [ctx.cols.correct[x][ctx.shared] for x in (rival, s)]
        if all(np.nansum(c) > 0 for c in right):
            # Descriptive beside the decision: at the same level, not in the family.
            c = cost_ratio(ctx.boot, ctx.costs[rival], right[0], ctx.costs[s], right[1])
            clo, chi = c.interval(level)
            text += f", per correct answer {pct(c.estimate)} [{pct(clo)}, {pct(chi)}]"
        out.append(f"{text} vs {rival} ({(1 - level) * 100:.4g}% CI)")
    lat = latency_pair(ctx.boot, ctx.cols.e2e[rival][ctx.shared], ctx.cols.e2e[s][ctx.shared])
    if lat is not None:
        out.append(latency_text(lat, ctx.tie.levels.get(("latency", a, b), ALPHA), rival))
    return out


def _not_shown(left: str, bounds: list[NonInferior], tie: TieBreak, quality: TopSet) -> str:
    """No clear winner: the stack left by cost or latency is not shown to answer about as
    well as the others; what it would take to show it."""
    cheaper = sorted(s for s, w in tie.cost_out.items() if w == left)
    faster = sorted(s for s, w in tie.latency_out.items() if w == left)
    how = ", ".join([*(["cheaper than " + " and ".join(cheaper)] if cheaper else []),
                     *(["faster than " + " and ".join(faster)] if faster else [])]) \
        or "the one left by cost and latency"
    need = []
    for b in bounds:
        if b.holds:
            continue
        n = b.settle_n
        need.append(f"{b.text()}: " + (f"about {n} questions would show it, if the drop is "
                                        "that small" if n else
                                        "the drop itself is beyond the margin"))
    others = " and ".join(b.other for b in bounds)
    return (f"no clear winner: {left} is {how}, but not shown to answer as well as {others} "
            f"(F1 within {bounds[0].margin:g}, n={quality.n}): " + "; ".join(need)
            + "; speed or cost decides only between stacks shown to answer alike")


def _no_winner(tie: TieBreak, quality: TopSet) -> str:
    tied = " and ".join(tie.left)
    return (f"no clear winner: {tied} are statistically tied on F1 (n={quality.n}), and "
            f"neither cost nor latency separates them ({tie.unsettled}); choose either")
