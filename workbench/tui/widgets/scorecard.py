"""One candidate's comparisons against the baseline: metric, baseline, candidate,
difference [95% CI], verdict; one row per comparison.

Cells are formatted with the report's own `format_value`/`format_diff`, so the TUI shows
exactly the strings `workbench report` prints for the same `ScoreCard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import DataTable

if TYPE_CHECKING:
    from workbench.report.models import Comparison, ScoreCard


def comparison_cells(c: Comparison) -> tuple[str, str, str, str, str]:
    """The displayed cells of one comparison (the same strings as the CLI report)."""
    # Lazy: by the time a card exists the worker has imported the report package.
    from workbench.report.verdict import format_diff, format_value

    if c.key == "error_rate":
        a, b = (f"{v:.1%}" if v is not None else "n/a"
                for v in (c.baseline_value, c.candidate_value))
    else:
        a, b = format_value(c.baseline_value, c.unit), format_value(c.candidate_value, c.unit)
    # "(paired median ratio)" is said once, in the border title, so 80 columns fit.
    label = c.label.replace(" (paired median ratio)", " ratio")
    return (label + (" *" if c.primary else ""), a, b, format_diff(c), c.verdict)


class ScorecardTable(DataTable[str]):
    """Every comparison of one candidate, in the report's order (quality, retrieval,
    latency); row key = comparison key."""

    DEFAULT_CSS = """
    ScorecardTable {
        height: 1fr;
        border: round $primary-muted;
    }
    ScorecardTable:focus {
        border: round $accent;
    }
    """

    def on_mount(self) -> None:
        """Row cursor: a row is one statistic."""
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(self, card: ScoreCard, candidate: str) -> None:
        """Replace the columns and rows with `candidate`'s comparisons."""
        self.clear(columns=True)
        base = card.baseline
        for key, label in (("metric", "Metric"), ("base", base), ("cand", candidate),
                           ("diff", f"{candidate} - {base} [95% CI]"), ("verdict", "Verdict")):
            self.add_column(label, key=key)
        for c in card.comparisons_of(candidate):
            self.add_row(*comparison_cells(c), key=c.key)
        self.border_title = (f"{card.label(candidate)} vs {card.label(base)} · * Holm-"
                             "corrected, others Benjamini-Hochberg · ratio: median of "
                             "per-question ratios")
