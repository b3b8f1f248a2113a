"""Plain-language verdicts: one per compared metric, and one line per candidate.

Every number is the candidate relative to the baseline (candidate - baseline, or
candidate / baseline - 1 for latency), with its 95% paired bootstrap CI; a difference is
called only when its CI excludes 0 and its paired test agrees (Holm-adjusted for the
primary metrics).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.report.models import Comparison

#: The answer metric the choice and the verdict lead with.
PRIMARY_QUALITY = "f1"
#: The latency comparison the verdict leads with: the paired per-question E2E ratio.
PRIMARY_LATENCY = "e2e.ratio"


def format_value(value: float | None, unit: str) -> str:
    """A metric value for display: durations in ms, rates with one decimal, scores 3 d.p."""
    if value is None or math.isnan(value):
        return "n/a"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) >= 0.1 else f"{value * 1000:.1f} ms"
    if unit == "tok/s":
        return f"{value:.1f}"
    return f"{value:.3f}"


def format_diff(c: Comparison) -> str:
    """candidate vs baseline with its CI: relative % for latency, absolute otherwise."""
    if c.rel_pct is not None and c.rel_ci_low is not None and c.rel_ci_high is not None:
        return f"{c.rel_pct:+.0f}% [{c.rel_ci_low:+.0f}%, {c.rel_ci_high:+.0f}%]"
    if c.diff is None or c.ci_low is None or c.ci_high is None or math.isnan(c.ci_low):
        return "n/a"
    if c.key == "error_rate":  # a rate: percentage points read better than fractions
        return f"{c.diff * 100:+.1f} pp [{c.ci_low * 100:+.1f}, {c.ci_high * 100:+.1f}]"
    if c.unit == "s":
        return (f"{c.diff * 1000:+.1f} ms [{c.ci_low * 1000:+.1f}, {c.ci_high * 1000:+.1f}]")
    digits = 1 if c.unit == "tok/s" else 3
    return f"{c.diff:+.{digits}f} [{c.ci_low:+.{digits}f}, {c.ci_high:+.{digits}f}]"


def format_p(c: Comparison) -> str:
    """The p-value shown: Holm-adjusted for primary metrics, Benjamini-Hochberg-adjusted for
    the others (each marked), raw only where no adjustment was made."""
    mark = ""
    p = c.p_value
    if c.primary and c.p_holm is not None:
        p, mark = c.p_holm, " (Holm)"
    elif not c.primary and c.p_bh is not None:
        p, mark = c.p_bh, " (BH)"
    if p is None or math.isnan(p):
        return ""
    text = f"{p:.3g}" if p >= 1e-4 else "<1e-4"
    return text + mark


def metric_verdict(c: Comparison) -> str:
    """One metric's verdict, e.g. "vllm-cpu is faster", "no significant difference"."""
    if c.better is None:
        return "no significant difference" if c.n_pairs >= 2 else "not enough pairs"
    if c.key == "error_rate":
        return f"{c.better} fails less"
    return f"{c.better} is {'faster' if c.section == 'latency' else 'better'}"


def faster_text(c: Comparison) -> str:
    """"faster on 63 of 68 questions, median E2E -71% [-75%, -58%]" for a ratio comparison
    (the candidate against the baseline), or "slower on ..." when the median is slower."""
    n_better = round((c.share_better or 0.0) * c.n_pairs)
    if (c.rel_pct or 0.0) > 0:
        return f"slower on {c.n_pairs - n_better} of {c.n_pairs} questions, median E2E " \
               f"{format_diff(c)}"
    return f"faster on {n_better} of {c.n_pairs} questions, median E2E {format_diff(c)}"


def candidate_verdict(comparisons: Sequence[Comparison]) -> str:
    """One candidate's verdict against the baseline: quality, latency, retrieval, errors."""
    if not comparisons:
        return "nothing to compare"
    base, cand = comparisons[0].baseline, comparisons[0].candidate
    by_key = {c.key: c for c in comparisons}
    parts: list[str] = []
    primary = by_key.get(PRIMARY_QUALITY)
    if primary is not None:
        excludes_zero = (primary.ci_low is not None and primary.ci_high is not None
                         and (primary.ci_low > 0 or primary.ci_high < 0))
        if primary.better is None and excludes_zero and primary.p_holm is not None:
            # The interval shown is the unadjusted one; the decision is Holm's, so say which
            # word comes from which number instead of "no difference" beside a CI without 0.
            parts.append(f"no significant difference in answer F1 after Holm's correction "
                         f"(Holm p {primary.p_holm:.3g}; unadjusted {format_diff(primary)})")
        elif primary.better is None:
            parts.append(f"no significant difference in answer F1 "
                         f"({format_diff(primary)})")
        else:
            parts.append(f"{primary.better} answers better: F1 {format_diff(primary)}")
    others = [c for c in comparisons if c.section == "quality" and c.better is not None
              and c.key != PRIMARY_QUALITY]
    for winner in (cand, base):
        named = [f"{c.label} {format_diff(c)}" for c in others if c.better == winner]
        if named:
            parts.append(f"{winner} better on " + ", ".join(named) + " (BH-adjusted)")
    lat = by_key.get(PRIMARY_LATENCY)
    if lat is not None and lat.n_pairs >= 2:
        if lat.better is None:
            parts.append(f"no significant latency difference: median E2E {format_diff(lat)}")
        else:
            parts.append(f"{lat.better} is faster: {cand} is {faster_text(lat)}")
    won = [c for c in comparisons if c.section == "retrieval" and c.better is not None]
    if [c for c in comparisons if c.section == "retrieval"] and not won:
        parts.append("no significant retrieval difference")
    for winner in (cand, base):
        named = [f"{c.label} {format_diff(c)}" for c in won if c.better == winner]
        if named:
            parts.append(f"{winner} retrieves better: " + ", ".join(named))
    err = by_key.get("error_rate")
    if err is not None and ((err.baseline_value or 0) > 0 or (err.candidate_value or 0) > 0):
        parts.append(f"errors: {base} {(err.baseline_value or 0):.1%}, {cand} "
                     f"{(err.candidate_value or 0):.1%}"
                     + (f" ({err.better} fails less)" if err.better else ""))
    return f"{cand} vs {base}: " + "; ".join(parts)
