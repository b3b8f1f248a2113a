"""The scorecard table: metric, A, B, B - A [95% CI], verdict; one row per comparison.

Cells are formatted with the report's own `format_value`/`format_diff`, so the TUI shows
exactly the strings `workbench report` prints for the same `ScoreCard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import DataTable

if TYPE_CHECKING:
    from workbench.report.models import Comparison, ScoreCard

COLUMNS = ("Metric", "A", "B", "B - A [95% CI]", "Verdict")


def comparison_cells(c: Comparison) -> tuple[str, str, str, str, str]:
    """The displayed cells of one comparison (the same strings as the CLI report)."""
    # Lazy: by the time a card exists the worker has imported the report package.
    from workbench.report.verdict import format_diff, format_value

    if c.key == "error_rate":
        a, b = (f"{v:.1%}" if v is not None else "n/a" for v in (c.a, c.b))
    else:
        a, b = format_value(c.a, c.unit), format_value(c.b, c.unit)
    return (c.label, a, b, format_diff(c), c.verdict)


class ScorecardTable(DataTable[str]):
    """Every comparison of a scorecard, in the report's order (quality, retrieval, latency)."""

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
        self.border_title = "Scorecard (B vs A)"
        for key, label in zip(("metric", "a", "b", "diff", "verdict"), COLUMNS, strict=True):
            self.add_column(label, key=key)

    def show(self, card: ScoreCard) -> None:
        """Replace the rows with `card`'s comparisons (row key = comparison key)."""
        self.clear()
        for c in card.comparisons:
            self.add_row(*comparison_cells(c), key=c.key)
