"""The CI gate: the lines that make `workbench choose --gate` fail.

It fails when no stack meets the constraints, or when a candidate is significantly worse
than the baseline beyond a stated margin: a quality drop (`f1=0.02`: the candidate's F1 is
significantly lower and the drop exceeds 0.02) or a latency rise (`e2e.p50=10%`: the paired
median E2E ratio is significantly slower and more than 10%). Significance is the
scorecard's own (Holm-corrected for the primary metrics).
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.report.choice import Choice
from workbench.report.constraints import Margin
from workbench.report.models import Comparison, ScoreCard
from workbench.report.verdict import format_diff


def _comparison(card: ScoreCard, cand: str, margin: Margin) -> Comparison | None:
    comps = {c.key: c for c in card.comparisons_of(cand)}
    if margin.stat in (None, "mean") and margin.metric in comps:
        return comps[margin.metric]
    if margin.stat == "p95" and f"{margin.metric}.p95" in comps:
        return comps[f"{margin.metric}.p95"]
    # p50 and a p95 the run had too few pairs for: the paired median ratio.
    return comps.get(f"{margin.metric}.ratio")


def gate_failures(card: ScoreCard, choice: Choice, margins: Sequence[Margin],
                  candidates: Sequence[str]) -> list[str]:
    """Every reason the gate fails, one line each (empty: it passes)."""
    failures: list[str] = []
    if not any(r.feasible for r in choice.ranked):
        failures.append(choice.headline)
    for cand in candidates:
        for m in margins:
            c = _comparison(card, cand, m)
            if c is None:
                failures.append(f"{cand}: no comparison for {m.text} in run {card.run_id} "
                                "(unknown metric?)")
                continue
            if not c.significant or c.better != card.baseline:
                continue
            if c.section == "latency" and c.rel_pct is not None:
                worse = c.rel_pct if not c.higher_is_better else -c.rel_pct
                limit = m.value if m.relative else m.value / max(c.baseline_value or 1e-9,
                                                                  1e-9) * 100
                if worse > limit:
                    failures.append(f"{cand}: {c.label} {format_diff(c)} vs {card.baseline}, "
                                    f"beyond the allowed +{limit:g}% ({m.text})")
            elif c.diff is not None:
                drop = -c.diff if c.higher_is_better else c.diff
                limit = (m.value / 100 * abs(c.baseline_value or 0.0) if m.relative
                         else m.value)
                if drop > limit:
                    failures.append(f"{cand}: {c.label} {format_diff(c)} vs {card.baseline}, "
                                    f"a significant drop beyond the allowed {limit:g} "
                                    f"({m.text})")
    return failures
