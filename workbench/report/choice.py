"""The recommendation: which stack to choose, and one reason line per candidate.

1. The constraints (SLOs on latency, a minimum quality, a maximum error rate) give the
   feasible set; every stack, the baseline included, is held to them.
2. The feasible stacks are ranked by primary quality (answer F1). Starting from the best,
   every stack whose F1 is not significantly different from the group's leader (paired
   bootstrap CI and sign-flip test, Holm-corrected over the comparisons with that leader)
   joins its "statistically tied" group.
3. Within a group: cheaper first (cost per 1,000 answers from `cost.per_hour` and the
   measured throughput; else CPU-seconds per answer), then faster (median E2E).
4. The choice is the first of the first group, unless its lead there is neither cost nor a
   significant latency difference: then there is no clear winner, and it says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from workbench.report.constraints import Constraint
from workbench.report.models import ScoreCard, StackSummary
from workbench.report.verdict import PRIMARY_QUALITY
from workbench.scoring.stats import (
    Interval,
    PairedBootstrap,
    RatioSummary,
    holm,
    median_ratio,
    sign_flip_test,
)

ALPHA = 0.05
#: A cost difference under this share is no reason to prefer one stack.
COST_TIE = 0.05


@dataclass
class Ranked:
    """One stack's place in the choice."""

    stack: str
    rank: int | None = None
    group: int | None = None
    feasible: bool = True
    failed: list[str] = field(default_factory=list)
    f1: float | None = None
    median_e2e_s: float | None = None
    cost_key: float | None = None
    cost_text: str = ""
    reason: str = ""


@dataclass
class Choice:
    """The recommendation: the chosen stack (None when no clear winner or none feasible),
    a headline, and every stack ranked with its reason."""

    chosen: str | None
    headline: str
    ranked: list[Ranked]
    constraints: list[str]
    method: str


@dataclass(frozen=True)
class _Pair:
    f1: Interval
    f1_p: float
    n: int
    latency: RatioSummary | None


class _Pairs:
    """Paired F1 and E2E comparisons between any two stacks, from the card's rows."""

    def __init__(self, card: ScoreCard, boot: PairedBootstrap) -> None:
        self.card, self.boot = card, boot
        self._cache: dict[tuple[str, str], _Pair] = {}

    def get(self, a: str, b: str) -> _Pair:
        """b against a: F1 difference b - a, E2E ratio b / a."""
        if (a, b) not in self._cache:
            fa, fb, ea, eb = [], [], [], []
            for row in self.card.rows:
                sa, sb = row.scores.get(a) or {}, row.scores.get(b) or {}
                if PRIMARY_QUALITY not in sa or PRIMARY_QUALITY not in sb:
                    continue
                fa.append(sa[PRIMARY_QUALITY] if sa[PRIMARY_QUALITY] is not None else math.nan)
                fb.append(sb[PRIMARY_QUALITY] if sb[PRIMARY_QUALITY] is not None else math.nan)
                both_ok = row.status.get(a) == "ok" and row.status.get(b) == "ok"
                ea.append(row.e2e.get(a) if both_ok and row.e2e.get(a) is not None else math.nan)
                eb.append(row.e2e.get(b) if both_ok and row.e2e.get(b) is not None else math.nan)
            x, y = np.array(fa, dtype=np.float64), np.array(fb, dtype=np.float64)
            mask = ~np.isnan(x) & ~np.isnan(y)
            iv = self.boot.mean_diff(x[mask], y[mask])
            self._cache[(a, b)] = _Pair(
                iv, sign_flip_test(y[mask] - x[mask]), int(mask.sum()),
                median_ratio(self.boot, np.array(ea, dtype=np.float64),
                             np.array(eb, dtype=np.float64)))
        return self._cache[(a, b)]


def _fmt(iv: Interval) -> str:
    return f"{iv.estimate:+.3f} [{iv.low:+.3f}, {iv.high:+.3f}]"


def _ratio_text(r: RatioSummary) -> str:
    """"faster on 63 of 68 questions, median E2E -71% [...]", or "slower on ..." when the
    median says slower (so the line reads the way the numbers point)."""
    iv = r.ratio
    lead = (f"faster on {r.better} of {r.n} questions" if iv.estimate <= 0
            else f"slower on {r.worse} of {r.n} questions")
    return f"{lead}, median E2E {iv.estimate:+.0f}% [{iv.low:+.0f}%, {iv.high:+.0f}%]"


def _cost(summary: StackSummary) -> tuple[float | None, str, str]:
    """(sort key, kind, text): price per 1,000 answers, else CPU-seconds per answer."""
    c = summary.cost
    if c is not None and c.per_1k_answers is not None:
        text = f"{c.per_1k_answers:.2f} {c.currency} per 1,000 answers"
        if c.per_correct_answer is not None:
            text += f", {c.per_correct_answer:.4f} per correct answer"
        return c.per_1k_answers, "price", text
    if c is not None and c.cpu_s_per_answer is not None:
        text = f"{c.cpu_s_per_answer:.2f} CPU-s per answer"
        if c.peak_rss_mb is not None:
            text += f", peak RSS {c.peak_rss_mb:.0f} MB"
        return c.cpu_s_per_answer, "cpu", text
    return None, "", ""


def recommend(card: ScoreCard, constraints: Sequence[Constraint] = (), *,
              resamples: int = 2000, seed: int = 20240521) -> Choice:
    """Rank the card's stacks and choose one (see the module docstring)."""
    boot = PairedBootstrap(resamples=resamples, seed=seed)
    pairs = _Pairs(card, boot)
    ranked: list[Ranked] = []
    for name in card.stacks:
        s = card.summaries[name]
        r = Ranked(stack=name, f1=s.quality.get(PRIMARY_QUALITY),
                   median_e2e_s=s.latency["e2e"].p50 if "e2e" in s.latency else None)
        r.cost_key, _, r.cost_text = _cost(s)
        for c in constraints:
            met, shown = c.check(s)
            if not met:
                r.failed.append(f"{c.text} ({shown})")
        r.feasible = not r.failed and s.ok > 0
        if s.ok == 0:
            r.failed.append("no successful answer")
        ranked.append(r)

    feasible = sorted([r for r in ranked if r.feasible],
                      key=lambda r: -(r.f1 if r.f1 is not None else -1.0))
    groups = _groups(feasible, pairs)
    costs_known = all(r.cost_key is not None for r in feasible)
    order: list[Ranked] = []
    for g, members in enumerate(groups, start=1):
        members.sort(key=lambda r: ((r.cost_key if costs_known else 0.0) or 0.0,
                                    r.median_e2e_s if r.median_e2e_s is not None else math.inf))
        for r in members:
            r.group = g
            order.append(r)
    for i, r in enumerate(order, start=1):
        r.rank = i
    chosen = _clear_winner(groups[0], pairs, costs_known) if groups else None
    _reasons(order, groups, pairs, chosen, costs_known)
    infeasible = [r for r in ranked if not r.feasible]
    for r in infeasible:
        r.reason = f"{r.stack}: excluded, fails " + "; ".join(r.failed)
    headline = _headline(chosen, groups, order, infeasible)
    return Choice(
        chosen=chosen, headline=headline, ranked=order + infeasible,
        constraints=[c.text for c in constraints],
        method=("feasible = meets every constraint; ranked by answer F1, stacks whose F1 is "
                "not significantly different from their group's leader (95% paired bootstrap "
                "CI and sign-flip test, Holm-corrected) are statistically tied; within a tie, "
                "cheaper first (price per 1,000 answers, else CPU-s per answer), then lower "
                "median E2E"),
    )


def _groups(feasible: list[Ranked], pairs: _Pairs) -> list[list[Ranked]]:
    groups: list[list[Ranked]] = []
    rest = list(feasible)
    while rest:
        leader, others = rest[0], rest[1:]
        tests = [pairs.get(leader.stack, o.stack) for o in others]
        adjusted = holm([t.f1_p for t in tests])
        tied = [o for o, t, p in zip(others, tests, adjusted, strict=True)
                if not (t.f1.significant and p < ALPHA)]
        groups.append([leader, *tied])
        rest = [o for o in others if o not in tied]
    return groups


def _clear_winner(group: list[Ranked], pairs: _Pairs, costs_known: bool) -> str | None:
    """The group's first, unless nothing (cost, latency) separates it from the second."""
    first = group[0]
    if len(group) == 1:
        return first.stack
    second = group[1]
    if costs_known and first.cost_key is not None and second.cost_key is not None \
            and first.cost_key < second.cost_key * (1 - COST_TIE):
        return first.stack
    lat = pairs.get(second.stack, first.stack).latency
    if lat is not None and lat.ratio.significant and lat.ratio.estimate < 0 \
            and lat.p_value < ALPHA:
        return first.stack
    return None


def _reasons(order: list[Ranked], groups: list[list[Ranked]], pairs: _Pairs,
             chosen: str | None, costs_known: bool) -> None:
    """One line per ranked stack: its F1 against the stack that places it, its latency
    against the nearest rival, and its cost."""
    if not groups:
        return
    top = groups[0][0]
    for r in order:
        assert r.group is not None
        group = groups[r.group - 1]
        f1 = "n/a" if r.f1 is None else f"{r.f1:.3f}"
        mates = [o for o in group if o is not r]
        if r.group == 1 and mates:
            rival = mates[0]
            bits = [f"F1 {f1}, statistically tied with {rival.stack} "
                    f"({_fmt(pairs.get(rival.stack, r.stack).f1)})"]
        elif r.group == 1:
            below = [o for o in order if o is not r]
            rival = below[0] if below else r
            bits = [f"F1 {f1}, best: {_fmt(pairs.get(rival.stack, r.stack).f1)} over "
                    f"{rival.stack}" if below else f"F1 {f1}"]
        else:
            rival = top
            bits = [f"F1 {f1}, worse than {top.stack} by {_fmt(pairs.get(top.stack, r.stack).f1)}"]
        if rival is not r:
            lat = pairs.get(rival.stack, r.stack).latency
            if lat is not None:
                bits.append(f"vs {rival.stack}: {_ratio_text(lat)}")
        if r.cost_text:
            bits.append(r.cost_text)
        verb = "choose" if r.stack == chosen else f"#{r.rank}"
        r.reason = f"{verb} {r.stack}: " + "; ".join(bits)


def _headline(chosen: str | None, groups: list[list[Ranked]], order: list[Ranked],
              infeasible: list[Ranked]) -> str:
    if not order:
        names = ", ".join(r.stack for r in infeasible)
        return f"no stack meets every constraint ({names} excluded): nothing to choose"
    if chosen is None:
        tied = " and ".join(r.stack for r in groups[0])
        return (f"no clear winner: {tied} are statistically tied on F1, and neither cost nor "
                "latency separates them; choose either")
    return next(r.reason for r in order if r.stack == chosen)
