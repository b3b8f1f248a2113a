"""The CI gate (`workbench choose RUN --gate`): a non-inferiority test of each candidate
against the baseline, as clinical trials test "not worse by more than a margin".

For each candidate and margin (`--max-drop f1=0.02`, `--max-rise e2e.p50=10%`), over the
questions both answered:

- pass: the one-sided 95% upper bound of the drop (or rise) is inside the margin;
- fail: the one-sided 95% lower bound is beyond the margin (significantly worse than allowed);
- inconclusive otherwise, with about how many questions would settle it.

Quality drops are the mean of per-question differences (Student's t bound). Latency rises
are per-question E2E ratios candidate / baseline: `p50` (or no statistic) is their median
(distribution-free order-statistic bound), `mean` the ratio of mean E2E (paired bootstrap),
`p95` the ratio of the two p95s (paired bootstrap, only with `P95_MIN_PAIRS` pairs or more:
a margin the run cannot estimate is refused, never swapped for another statistic). A failed
request counts as slower than any other (censored), never as absent.

The gate also holds when no stack is known to meet the constraints: fail when every stack
fails one, inconclusive when some are only not known. Exit codes: `EXIT_PASS` 0,
`EXIT_FAIL` 1, `EXIT_INCONCLUSIVE` 3 (2 stays the command line's usage error).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats as sps

from workbench.report import limits
from workbench.report.capacity_choice import cost_rise
from workbench.report.choice import Choice
from workbench.report.constraints import Constraint, Margin
from workbench.report.models import ScoreCard
from workbench.report.paired import P95_MIN_PAIRS

GateState = Literal["pass", "fail", "inconclusive"]
PASSED: GateState = "pass"
FAILED: GateState = "fail"
INCONCLUSIVE: GateState = "inconclusive"
EXIT_PASS, EXIT_FAIL, EXIT_INCONCLUSIVE = 0, 1, 3
#: One-sided confidence of each bound (the two together: a 90% two-sided interval).
ONE_SIDED = 0.95
#: A censored (failed) request's log ratio: far beyond any margin, finite for the arithmetic.
_CENSORED = 50.0
_RESAMPLES = 2000
_SEED = 20240521


class GateError(ValueError):
    """A margin the run cannot judge (unknown metric, p95 with too few pairs)."""


@dataclass(frozen=True)
class MarginCheck:
    """One candidate against the baseline on one margin."""

    candidate: str
    margin: Margin
    state: GateState
    worse: float
    low: float
    high: float
    limit: float
    n: int
    settle_n: int | None
    text: str


@dataclass
class GateResult:
    """The gate's verdict, one line per check, and its exit code."""

    state: GateState
    checks: list[MarginCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 3 inconclusive."""
        return {PASSED: EXIT_PASS, FAILED: EXIT_FAIL, INCONCLUSIVE: EXIT_INCONCLUSIVE}[self.state]

    def lines(self) -> list[str]:
        """Every check and problem, worst first."""
        order = {FAILED: 0, INCONCLUSIVE: 1, PASSED: 2}
        return self.problems + [c.text for c in sorted(self.checks,
                                                       key=lambda c: order[c.state])]


def _state(low: float, high: float, limit: float) -> GateState:
    if high < limit:
        return PASSED
    if low > limit:
        return FAILED
    return INCONCLUSIVE


def _settle(n: int, low: float, high: float, worse: float, limit: float) -> int | None:
    """About how many pairs would put the bound clear of the margin at the same spread."""
    if worse == limit or not (math.isfinite(low) and math.isfinite(high)) or n < 2:
        return None
    half = (high - low) / 2
    return math.ceil(n * (half / abs(limit - worse)) ** 2) + 1


def _quality_pairs(card: ScoreCard, cand: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    base, cnd = [], []
    for row in card.rows:
        a = (row.scores.get(card.baseline) or {}).get(metric)
        b = (row.scores.get(cand) or {}).get(metric)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b):
            base.append(a)
            cnd.append(b)
    return np.asarray(base, dtype=np.float64), np.asarray(cnd, dtype=np.float64)


def _log_ratios(card: ScoreCard, cand: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Per question asked of both: log E2E of baseline and candidate, a failed request
    `_CENSORED` above every success (slower than anything); and how many pairs had one."""
    a, b = [], []
    for row in card.rows:
        sa, sb = row.status.get(card.baseline), row.status.get(cand)
        if sa is None or sb is None:
            continue
        ea, eb = row.e2e.get(card.baseline), row.e2e.get(cand)
        a.append(math.log(ea) if sa == "ok" and ea else math.inf)
        b.append(math.log(eb) if sb == "ok" and eb else math.inf)
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
    top = float(finite.max()) + _CENSORED if finite.size else _CENSORED
    failed = int((~np.isfinite(x) | ~np.isfinite(y)).sum())
    return np.where(np.isfinite(x), x, top), np.where(np.isfinite(y), y, top), failed


def _quality(card: ScoreCard, cand: str, m: Margin, label: str,
             higher_is_better: bool) -> MarginCheck:
    base, cnd = _quality_pairs(card, cand, m.metric)
    n = int(base.size)
    drops = (base - cnd) if higher_is_better else (cnd - base)
    limit = m.value / 100 * abs(float(base.mean())) if m.relative and n else m.value
    if n == 0:
        return MarginCheck(cand, m, INCONCLUSIVE, math.nan, -math.inf, math.inf, limit, 0, None,
                           f"{cand} is inconclusive at the gate on {m.text}: no question was "
                           f"answered by both it and {card.baseline}")
    worse = float(drops.mean())
    if n < 2:
        low, high = -math.inf, math.inf
    else:
        # Plus half a question's worth (a continuity correction): right/wrong answers make
        # the mean move in steps of 1/n, and without it a drop at the margin passed 5.5-7%
        # of simulated runs at n=100 instead of 5%.
        half = float(sps.t.ppf(ONE_SIDED, n - 1) * drops.std(ddof=1) / math.sqrt(n)) + 0.5 / n
        low, high = worse - half, worse + half
    state = _state(low, high, limit)
    settle = _settle(n, low, high, worse, limit) if state == INCONCLUSIVE else None
    shown = (f"{label} drop {worse:+.3f} vs {card.baseline}, "
             f"{_bounds_text(low, high, n, lambda v: f'{v:+.3f}', 'drop')}; "
             f"margin {limit:.3g} ({m.text})")
    return MarginCheck(cand, m, state, worse, low, high, limit, n, settle,
                       _line(cand, state, shown, settle, "questions", _bounded(low, high)))


def _latency(card: ScoreCard, cand: str, m: Margin) -> MarginCheck:
    stat = m.stat or "p50"
    la, lb, failed = _log_ratios(card, cand)
    n = int(la.size)
    if m.relative:
        limit = math.log1p(m.value / 100)
    else:  # an absolute rise (e2e.p50=200ms): against the baseline's own statistic
        lat = card.summaries[card.baseline].latency.get("e2e")
        ref = getattr(lat, "mean" if stat == "mean" else stat, None) if lat else None
        limit = math.log1p(m.value / max(ref or 1.0, 1e-9))
    if n == 0:
        return MarginCheck(cand, m, INCONCLUSIVE, math.nan, -math.inf, math.inf, limit, 0, None,
                           f"{cand} is inconclusive at the gate on {m.text}: no question was "
                           f"asked of both it and {card.baseline}")
    if stat == "p50":
        b = limits.quantile_bound(list(lb - la), 0.5, confidence=2 * ONE_SIDED - 1)
        worse, low, high = float(np.median(lb - la)), b.low, b.high
        what = "median E2E ratio"
    else:
        worse, low, high = _bootstrap_log_ratio(la, lb, stat)
        if n < 2:  # one pair resamples to itself: no interval, not a zero-width one
            low, high = -math.inf, math.inf
        what = "mean E2E ratio" if stat == "mean" else "p95 E2E ratio"
    state = _state(low, high, limit)
    settle = _settle(n, low, high, worse, limit) if state == INCONCLUSIVE else None
    shown = (f"{what} {_pct(worse)} vs {card.baseline}, "
             f"{_bounds_text(low, high, n, _pct, 'rise')}"
             + (f" ({failed} with a failed request, counted as slowest)" if failed else "")
             + f"; margin +{math.expm1(limit) * 100:.3g}% ({m.text})")
    return MarginCheck(cand, m, state, worse, low, high, limit, n, settle,
                       _line(cand, state, shown, settle, "questions", _bounded(low, high)))


def _bounded(low: float, high: float) -> bool:
    return math.isfinite(low) and math.isfinite(high)


def _bounds_text(low: float, high: float, n: int, fmt: Callable[[float], str],
                 what: str) -> str:
    """`one-sided 95% bounds [a, b] over n questions`; an end too few questions cannot
    bound is said in words, never printed as an infinity."""
    if _bounded(low, high):
        return f"one-sided 95% bounds [{fmt(low)}, {fmt(high)}] over {n} questions"
    if math.isfinite(low):
        return (f"one-sided 95% lower bound {fmt(low)}; too few questions to bound the "
                f"{what} from above (n={n})")
    if math.isfinite(high):
        return (f"one-sided 95% upper bound {fmt(high)}; too few questions to bound the "
                f"{what} from below (n={n})")
    return f"too few questions to bound the {what} (n={n})"


def _bootstrap_log_ratio(la: np.ndarray, lb: np.ndarray, stat: str) -> tuple[float, float, float]:
    """log(stat(candidate) / stat(baseline)) and its 5% and 95% paired-bootstrap quantiles."""
    ta, tb = np.exp(la), np.exp(lb)

    def of(x: np.ndarray) -> np.ndarray:
        return np.asarray(x.mean(axis=-1) if stat == "mean" else np.quantile(x, 0.95, axis=-1))

    rng = np.random.default_rng([_SEED, la.size])
    idx = rng.integers(0, la.size, size=(_RESAMPLES, la.size))
    draws = np.log(of(tb[idx])) - np.log(of(ta[idx]))
    lo, hi = np.quantile(draws, [1 - ONE_SIDED, ONE_SIDED])
    return float(np.log(of(tb)) - np.log(of(ta))), float(lo), float(hi)


def _pct(log_ratio: float) -> str:
    if not math.isfinite(log_ratio):
        return "+∞" if log_ratio > 0 else "-∞"
    return f"{math.expm1(log_ratio) * 100:+.0f}%"


def _line(cand: str, state: GateState, shown: str, settle: int | None, what: str,
          bounded: bool = True) -> str:
    """One check as a sentence: "B passes the gate: ...", "B fails the gate: ..."."""
    if state == PASSED:
        return f"{cand} passes the gate: {shown}; the bound is inside the margin"
    if state == FAILED:
        return f"{cand} fails the gate: {shown}; it is significantly beyond the margin"
    how = (f"; about {settle} {what} would settle it" if settle
           else f"; more {what} are needed before it can be judged" if not bounded
           else "; it sits at the margin, so no sample size would settle it")
    return f"{cand} is inconclusive at the gate: {shown}{how}"


def _cost_per_correct(card: ScoreCard, cand: str, m: Margin) -> MarginCheck:
    """Cost per correct answer, each stack at its own capacity under the load pass
    (`report.capacity_choice.cost_rise`), against a relative margin (`cost_per_correct=10%`)."""
    if card.load is None:
        raise GateError(f"{m.text}: run {card.run_id} had no load pass (add a load block to "
                        "its matrix file)")
    if not m.relative:
        raise GateError(f"{m.text}: give the allowed rise in %, e.g. cost_per_correct=10%")
    rise = cost_rise(card.load.stacks.get(card.baseline), card.load.stacks.get(cand),
                     confidence=1 - 2 * (1 - ONE_SIDED))
    if rise is None:
        raise GateError(f"{m.text}: {cand} or {card.baseline} has no cost per correct answer "
                        "at capacity (no level held, or neither a price nor CPU time)")
    worse, low, high, n = rise
    limit = m.value / 100
    state = _state(low, high, limit)
    shown = (f"cost per correct answer at capacity {worse:+.0%} [{low:+.0%}, {high:+.0%}] vs "
             f"{card.baseline} ({n} correct answers), margin +{limit:.0%}")
    text = (_line(cand, state, shown, None, "answers") if state != INCONCLUSIVE else
            f"{cand} is inconclusive at the gate: {shown}; longer load levels (more correct "
            "answers) would settle it")
    return MarginCheck(cand, m, state, worse, low, high, limit, n, None, text)


def check_margin(card: ScoreCard, cand: str, m: Margin) -> MarginCheck:
    """One candidate against the baseline on one margin (GateError when it cannot be
    judged on this run)."""
    if m.metric == "cost_per_correct":
        return _cost_per_correct(card, cand, m)
    comps = {c.metric: c for c in card.comparisons_of(cand)}
    if m.metric == "e2e" and (m.stat in (None, "p50", "mean", "p95")):
        n = sum(1 for row in card.rows if row.status.get(card.baseline) is not None
                and row.status.get(cand) is not None)
        if m.stat == "p95" and n < P95_MIN_PAIRS:
            raise GateError(
                f"{m.text}: run {card.run_id} has {n} question pairs of {cand} and "
                f"{card.baseline}; a p95 needs at least {P95_MIN_PAIRS} to be estimated, so "
                f"this margin cannot be judged (use e2e.p50 or e2e.mean, or run at least "
                f"{P95_MIN_PAIRS} questions)")
        return _latency(card, cand, m)
    c = comps.get(m.metric)
    if c is None or c.section == "latency" or m.stat not in (None, "mean"):
        known = sorted({k for k, v in comps.items() if v.section != "latency"} | {"e2e"})
        raise GateError(f"{m.text}: no margin on {m.metric}"
                        + (f".{m.stat}" if m.stat else "")
                        + f" in run {card.run_id}; known: {', '.join(known)} "
                        "(e2e with p50, mean or p95)")
    return _quality(card, cand, m, c.label, c.higher_is_better)


def run_gate(card: ScoreCard, choice: Choice, margins: Sequence[Margin],
             candidates: Sequence[str], constraints: Sequence[Constraint] = ()) -> GateResult:
    """Every candidate on every margin, and the constraints: fail when a check fails or
    every stack fails a constraint; inconclusive when a check is inconclusive or no stack is
    known to meet the constraints; pass otherwise."""
    result = GateResult(PASSED)
    if not any(r.feasible for r in choice.ranked):
        judged = [[c.judge(card.summaries[s]) for c in constraints] for s in card.stacks]
        every_fails = bool(constraints) and all(
            any(j.state == limits.FAILED for j in js) for js in judged)
        fails = every_fails or not constraints
        result.problems.append(
            f"The gate fails because {choice.headline}" if fails else
            f"The gate is inconclusive because {choice.headline}")
        result.state = FAILED if fails else INCONCLUSIVE
    result.checks = [check_margin(card, cand, m) for cand in candidates for m in margins]
    states = {c.state for c in result.checks}
    if FAILED in states:
        result.state = FAILED
    elif INCONCLUSIVE in states and result.state == PASSED:
        result.state = INCONCLUSIVE
    return result


def gate_failures(card: ScoreCard, choice: Choice, margins: Sequence[Margin],
                  candidates: Sequence[str]) -> list[str]:
    """The lines that fail the gate (empty: nothing failed; see `run_gate` for the
    three-state verdict)."""
    result = run_gate(card, choice, margins, candidates)
    return ([choice.headline] if result.problems and not any(r.feasible for r in choice.ranked)
            else []) + [c.text for c in result.checks if c.state == FAILED]
