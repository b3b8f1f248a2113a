"""The candidate's verdict line: its words agree with the numbers it shows."""

from __future__ import annotations

from workbench.report.models import Comparison
from workbench.report.verdict import candidate_verdict


def f1(low: float, high: float, p_holm: float) -> Comparison:
    return Comparison(
        key="f1", metric="f1", label="F1", section="quality", statistic="mean", unit="",
        higher_is_better=True, baseline="a", candidate="b", n_pairs=12, baseline_value=0.3,
        candidate_value=0.4, diff=0.099, ci_low=low, ci_high=high, rel_pct=None,
        share_better=None, p_value=0.03, p_holm=p_holm, primary=True, significant=False,
        better=None, verdict="no significant difference")


def test_a_holm_tie_beside_an_unadjusted_ci_without_zero_says_so() -> None:
    # Seen in the History compare: "no significant difference (+0.099 [+0.010, +0.415])".
    line = candidate_verdict([f1(0.010, 0.415, 0.06)])
    assert "after Holm's correction" in line and "Holm p 0.06" in line
    assert "unadjusted" in line


def test_a_tie_whose_ci_holds_zero_reads_plainly() -> None:
    line = candidate_verdict([f1(-0.05, 0.2, 0.4)])
    assert "no significant difference in answer F1 (" in line
    assert "Holm" not in line
