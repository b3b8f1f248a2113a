"""Plain-language verdicts: one per compared metric, and one for the whole A/B.

Every number is B relative to A (B - A, or B / A - 1 for latency percentiles), with its
95% bootstrap CI; a difference is called only when its CI excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.report.models import Comparison

#: The answer metric the overall verdict leads with.
PRIMARY_QUALITY = "f1"
#: The latency comparison the overall verdict leads with.
PRIMARY_LATENCY = "e2e.p95"


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
    """B - A with its CI: relative % for latency percentiles, absolute otherwise."""
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


def metric_verdict(c: Comparison) -> str:
    """One metric's verdict, e.g. "B is faster", "A is better", "no significant difference"."""
    if c.better is None:
        return "no significant difference" if c.n_pairs >= 2 else "not enough pairs"
    if c.key == "error_rate":
        return f"{c.better} fails less"
    return f"{c.better} is {'faster' if c.section == 'latency' else 'better'}"


def _named(c: Comparison) -> str:
    return f"{c.label} {format_diff(c)}"


def overall_verdict(comparisons: Sequence[Comparison]) -> list[str]:
    """The verdict's parts: latency, answer quality, retrieval, errors (in that order)."""
    by_key = {c.key: c for c in comparisons}
    parts: list[str] = []
    lat = by_key.get(PRIMARY_LATENCY)
    if lat is not None and lat.n_pairs >= 2:
        if lat.better is None:
            parts.append(f"no significant latency difference: p95 E2E {format_diff(lat)}")
        else:
            parts.append(f"{lat.better} is faster: p95 E2E {format_diff(lat)}")
    quality = [c for c in comparisons if c.section == "quality"]
    primary = by_key.get(PRIMARY_QUALITY)
    significant = [c for c in quality if c.better is not None]
    if not significant:
        detail = f": answer F1 {format_diff(primary)}" if primary is not None else ""
        parts.append(f"no significant quality difference{detail}")
    else:
        if primary is not None and primary.better is not None:
            parts.append(f"{primary.better} answers better: F1 {format_diff(primary)}")
        elif primary is not None:
            parts.append(f"no significant difference in answer F1: {format_diff(primary)}")
        others = [c for c in significant if c.key != PRIMARY_QUALITY]
        for winner in ("A", "B"):
            named = [_named(c) for c in others if c.better == winner]
            if named:
                parts.append(f"{winner} better on " + ", ".join(named))
    retrieval = [c for c in comparisons if c.section == "retrieval"]
    if retrieval:
        won = [c for c in retrieval if c.better is not None]
        if not won:
            parts.append("no significant retrieval difference")
        for winner in ("A", "B"):
            named = [_named(c) for c in won if c.better == winner]
            if named:
                parts.append(f"{winner} retrieves better: " + ", ".join(named))
    err = by_key.get("error_rate")
    if err is not None and ((err.a or 0) > 0 or (err.b or 0) > 0):
        parts.append(f"errors: A {(err.a or 0):.1%}, B {(err.b or 0):.1%}"
                     + (f" ({err.better} fails less)" if err.better else ""))
    return parts
