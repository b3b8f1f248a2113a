"""The leaderboard every view shows: one typed row per stack, built once from the card and
its choice, with every cell's text decided here.

The CLI (rich), the Markdown report, the web page and the TUI lay these rows out; none of
them formats a number of its own, so the same stack shows the same rank and tie mark, the
same cost text and the same capacity in every view. The numbers are the scorecard's
(`StackSummary`), the choice's (`Ranked`) and the load pass's (`StackLoad`); this module
only reads and words them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.report.choice import Choice, Ranked
from workbench.report.faithfulness import faithfulness_cell
from workbench.report.load import AT_CONCURRENCY_1, LoadRun, StackLoad
from workbench.report.models import Comparison, ScoreCard, StackSummary
from workbench.report.verdict import PRIMARY_LATENCY, PRIMARY_QUALITY, format_diff

#: Appended to a rank whose stack is statistically tied on F1 with another of its group.
TIE_MARK = "="
#: The rank cell of a stack a constraint (or the target load) excludes.
EXCLUDED_MARK = "✗"
#: After a difference from the baseline that is significant after correction.
SIGNIFICANT_MARK = "✓"


def seconds_text(x: float | None) -> str:
    """A latency in at most 7 characters: `45.2 ms`, `930 ms`, `1.14 s`, `15.9 s`,
    `159 s` (a TUI column is 7 wide: `15871 ms` did not fit)."""
    if x is None or math.isnan(x):
        return "n/a"
    if x < 0.1:
        return f"{x * 1000:.1f} ms"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    if x < 10:
        return f"{x:.2f} s"
    return f"{x:.1f} s" if x < 100 else f"{x:.0f} s"


def amount_text(v: float) -> str:
    """A cost: two decimals from 0.1 up, else two significant digits (`0.0042`), so a
    small price never shows as `0.00`."""
    if v == 0 or math.isnan(v):
        return "0.00" if v == 0 else "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 0.1:
        return f"{v:.2f}"
    return f"{v:.{1 - math.floor(math.log10(abs(v)))}f}"


def _price_text(v: float, currency: str, show_currency: bool) -> str:
    return f"{amount_text(v)} {currency}/1k" if show_currency else f"{amount_text(v)}/1k"


@dataclass(frozen=True)
class Capacity:
    """A stack's result under the run's load pass (`StackLoad`), worded once."""

    rps: float | None
    """Offered load at the highest level that holds (None: no level held)."""
    level: str | None
    holds_target: bool | None
    """Holds the team's target load (None: the load block set no target)."""
    broke_at: str | None
    cost_per_1k_correct: float | None
    cpu_s_per_correct: float | None
    currency: str
    text: str
    """`2.00 rps ✓` (✓ holds the target, ✗ does not), `none ✗`."""
    cost_text: str
    """At that level: price per 1,000 correct answers (`0.26/1k`), else CPU-seconds per
    correct answer (`2.00 CPU-s`), else `-`."""


@dataclass(frozen=True)
class LeaderRow:
    """One stack on the leaderboard: the values, and the text every view shows for them."""

    stack: str
    label: str
    baseline: bool
    engine: str
    model: str
    rank: int | None
    feasible: bool
    chosen: bool
    possibly_best: bool
    """In the top quality tier: no other stack has a significantly higher F1."""
    tied: bool
    """Statistically tied on F1 with another stack of its tier."""
    rank_text: str
    """`1`, `2=` (tied), `✗` (excluded)."""
    f1: float | None
    f1_ci: tuple[float, float] | None
    f1_text: str
    delta_f1: str
    """Paired F1 difference from the baseline with its 95% CI and ✓, `baseline`, `n/a`."""
    delta_f1_short: str
    """The same without the CI (`+0.220 ✓`, `base`), for narrow views."""
    e2e_p50: float | None
    e2e_text: str
    delta_e2e: str
    """Median of per-question E2E ratios against the baseline, with its CI and ✓."""
    delta_e2e_short: str
    error_rate: float | None
    errors: int
    responses: int
    error_text: str
    cost_per_1k: float | None
    cpu_s_per_answer: float | None
    currency: str
    cost_text: str
    """At concurrency 1: price per 1,000 answers (`0.13/1k`), else CPU-seconds per answer
    (`8.75 CPU-s`), else `-`."""
    capacity: Capacity | None
    """The load pass's result (None: the run had none, or it did not reach this stack)."""
    faithful_text: str | None
    """`0.82 (n=50)`, `3/24 planted`; None when the run has no faithfulness."""
    faithful_short: str | None
    """The same in at most 5 characters (`0.82`, `3/24`)."""
    flags: tuple[str, ...]
    """Words for what the marks say: `chosen`, `baseline`, `tied`, `excluded: ...`,
    `cannot hold the target ...`."""


@dataclass(frozen=True)
class Leaderboard:
    """Every stack's row in the choice's order, and what the table's notes say."""

    rows: tuple[LeaderRow, ...]
    baseline: str
    n_pairs: int
    has_load: bool
    has_faithfulness: bool
    currency: str
    """The one currency of every price shown ("" without prices; each cost names its own
    currency when stacks differ)."""
    cost_note: str
    """What the cost cells count: `Cost: USD per 1,000 answers; CPU-s per answer ...`."""
    load_short: str
    """At which load the choice was made: `chosen at concurrency 1`, `capacity at target
    2 rps`."""
    load_note: str
    """The same in a sentence (the run had no load block; the SLO and how it was judged)."""
    legend: str
    """The marks: =, ✗, ✓ and Δ."""


def _delta(c: Comparison | None, *, short: bool, relative: bool) -> str:
    if c is None:
        return "n/a"
    mark = f" {SIGNIFICANT_MARK}" if c.significant else ""
    if not short:
        text = format_diff(c)
        return text if text == "n/a" else text + mark
    value = c.rel_pct if relative else c.diff
    if value is None or math.isnan(value):
        return "n/a"
    return (f"{value:+.0f}%" if relative else f"{value:+.3f}") + mark


def faithful_short(s: StackSummary) -> str:
    """A stack's faithfulness in at most 5 characters: the judged supported-claim share
    (`0.82`), else the planted false answers it repeated (`3/24`), else `-`."""
    f = s.faithfulness
    if f is None:
        return "-"
    if f.judged and f.mean is not None:
        return f"{f.mean:.2f}"
    if f.planted is not None:
        return f"{f.planted.repeated}/{f.planted.answered}"
    return "-"


def _currency(card: ScoreCard) -> str:
    found = {s.cost.currency for s in card.summaries.values()
             if s.cost is not None and s.cost.per_1k_answers is not None}
    found |= {s.load.currency for s in card.summaries.values()
              if s.load is not None and s.load.cost_per_1k_correct is not None}
    return found.pop() if len(found) == 1 else ""


def _capacity(s: StackLoad, currency: str) -> Capacity:
    cap = "none" if s.capacity_rps is None else f"{s.capacity_rps:.2f} rps"
    mark = "" if s.holds_target is None else (" ✓" if s.holds_target else " ✗")
    if s.cost_per_1k_correct is not None:
        cost = _price_text(s.cost_per_1k_correct, s.currency, not currency)
    elif s.cpu_s_per_correct is not None:
        cost = f"{amount_text(s.cpu_s_per_correct)} CPU-s"
    else:
        cost = "-"
    return Capacity(rps=s.capacity_rps, level=s.capacity_level, holds_target=s.holds_target,
                    broke_at=s.broke_at, cost_per_1k_correct=s.cost_per_1k_correct,
                    cpu_s_per_correct=s.cpu_s_per_correct, currency=s.currency,
                    text=cap + mark, cost_text=cost)


def _cost_text(s: StackSummary, currency: str) -> str:
    c = s.cost
    if c is not None and c.per_1k_answers is not None:
        return _price_text(c.per_1k_answers, c.currency, not currency)
    if c is not None and c.cpu_s_per_answer is not None:
        return f"{amount_text(c.cpu_s_per_answer)} CPU-s"
    return "-"


def load_caption(load: LoadRun | None) -> tuple[str, str]:
    """(short, full): the leaderboard's words on the load the choice was made at. Short:
    `chosen at concurrency 1` or `capacity at target 2 rps`."""
    if load is None:
        return "chosen at concurrency 1", AT_CONCURRENCY_1
    target = f"target {load.target_text}" if load.target_text else "no target set"
    partial = "" if load.status == "completed" else f"; load pass {load.status}, partial"
    return (f"capacity at {target}",
            f"capacity under load: {load.mode} levels, {target}; SLO {', '.join(load.slo)} "
            f"judged on CI bounds, failures as misses, correct answers only{partial}")


def _cost_note(card: ScoreCard, currency: str, has_load: bool) -> str:
    unit = f"{currency} " if currency else ""
    note = (f"Cost: {unit}per 1,000 answers where priced (/1k), else CPU-seconds per answer, "
            "at concurrency 1")
    if has_load:
        note += (f"; cost at capacity: {unit}per 1,000 correct answers, else CPU-seconds per "
                 "correct answer, at the capacity level")
    return note


LEGEND = (f"{TIE_MARK}: statistically tied on F1 with the other {TIE_MARK} ranks of its "
          f"group; {EXCLUDED_MARK}: excluded by a constraint; {SIGNIFICANT_MARK}: the "
          "difference from the baseline is significant (95% paired BCa bootstrap CI, "
          "Holm-corrected for F1, Benjamini-Hochberg for the secondary metrics); Δ: against "
          "the baseline, ΔE2E the median of per-question ratios")


def _flags(r_chosen: bool, baseline: bool, tied: bool, failed: list[str],
           cap: Capacity | None, load: LoadRun | None) -> tuple[str, ...]:
    flags = ["chosen"] if r_chosen else []
    flags += ["baseline"] if baseline else []
    flags += ["tied"] if tied else []
    flags += [f"excluded: {'; '.join(failed)}"] if failed else []
    if cap is not None and cap.holds_target is False and load is not None:
        flags.append(f"cannot hold the target {load.target_text}"
                     + (f" (broke at {cap.broke_at})" if cap.broke_at else ""))
    return tuple(flags)


def leaderboard(card: ScoreCard, choice: Choice | None) -> Leaderboard:
    """The leaderboard of a completed run: one row per stack in the choice's order (in run
    order and unranked without a choice)."""
    currency = _currency(card)
    has_faithful = any(s.faithfulness is not None for s in card.summaries.values())
    ranked = choice.ranked if choice is not None else [Ranked(stack=s) for s in card.stacks]
    chosen = choice.chosen if choice is not None else None
    groups = [r.group for r in ranked if r.group is not None]
    rows: list[LeaderRow] = []
    for r in ranked:
        s = card.summaries[r.stack]
        by_key = {} if s.baseline else {c.key: c for c in card.comparisons_of(r.stack)}
        f1c, latc = by_key.get(PRIMARY_QUALITY), by_key.get(PRIMARY_LATENCY)
        tied = r.group is not None and groups.count(r.group) > 1
        rank = ("" if choice is None else EXCLUDED_MARK if not r.feasible or r.rank is None
                else f"{r.rank}{TIE_MARK if tied else ''}")
        e2e = s.latency.get("e2e")
        f1 = s.quality.get(PRIMARY_QUALITY)
        ci = s.ci.get(PRIMARY_QUALITY)
        f1_ci = ((ci[0], ci[1]) if ci and len(ci) == 2 and ci[0] is not None
                 and ci[1] is not None else None)
        cap = _capacity(s.load, currency) if s.load is not None else None
        cost = s.cost
        rows.append(LeaderRow(
            stack=r.stack, label=card.label(r.stack), baseline=s.baseline, engine=s.engine,
            model=s.model, rank=r.rank, feasible=r.feasible, chosen=r.stack == chosen,
            possibly_best=r.group == 1, tied=tied, rank_text=rank, f1=f1, f1_ci=f1_ci,
            f1_text="n/a" if f1 is None else f"{f1:.3f}",
            delta_f1="baseline" if s.baseline else _delta(f1c, short=False, relative=False),
            delta_f1_short="base" if s.baseline else _delta(f1c, short=True, relative=False),
            e2e_p50=e2e.p50 if e2e else None, e2e_text=seconds_text(e2e.p50 if e2e else None),
            delta_e2e="baseline" if s.baseline else _delta(latc, short=False, relative=True),
            delta_e2e_short="base" if s.baseline else _delta(latc, short=True, relative=True),
            error_rate=s.error_rate, errors=s.errors, responses=s.responses,
            error_text="n/a" if s.error_rate is None else f"{s.error_rate:.1%}",
            cost_per_1k=cost.per_1k_answers if cost else None,
            cpu_s_per_answer=cost.cpu_s_per_answer if cost else None,
            currency=cost.currency if cost else "", cost_text=_cost_text(s, currency),
            capacity=cap,
            faithful_text=faithfulness_cell(s) if has_faithful else None,
            faithful_short=faithful_short(s) if has_faithful else None,
            flags=_flags(r.stack == chosen, s.baseline, tied, r.failed, cap,
                         card.load)))
    short, note = load_caption(card.load)
    return Leaderboard(rows=tuple(rows), baseline=card.baseline, n_pairs=card.n_pairs,
                       has_load=card.load is not None, has_faithfulness=has_faithful,
                       currency=currency, cost_note=_cost_note(card, currency,
                                                               card.load is not None),
                       load_short=short, load_note=note, legend=LEGEND)


__all__ = ["EXCLUDED_MARK", "LEGEND", "SIGNIFICANT_MARK", "TIE_MARK",
           "Capacity", "LeaderRow", "Leaderboard", "amount_text", "faithful_short",
           "leaderboard", "load_caption", "seconds_text"]
