"""Human votes from the arena beside the automatic scores: each stack's Bradley-Terry rating
[95% CI] and wins-ties-losses next to its F1, then each pair's record and how often the
votes agree with F1 and with the LLM judge (`workbench.report.votes`, the report's code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard
    from workbench.report.votes import VoteSummary


class VotesPanel(VerticalScroll):
    """The votes table (row key = stack) and the votes in words below it."""

    DEFAULT_CSS = """
    VotesPanel {
        height: 1fr;
        border: round $primary-muted;
    }
    VotesPanel:focus-within {
        border: round $accent;
    }
    VotesPanel DataTable {
        height: auto;
    }
    VotesPanel Static {
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        """Table, then text."""
        yield DataTable(id="votes-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="votes-text")

    def show(self, votes: VoteSummary, card: ScoreCard) -> None:
        """Replace the rows and the text."""
        # why here: report.votes imports scipy (SciPy takes seconds to import)
        from workbench.report.votes import VOTES_HEADER, votes_lines, votes_table_rows

        table = self.query_one("#votes-table", DataTable)
        table.clear(columns=True)
        rows = votes_table_rows(votes, card)
        table.display = bool(rows)
        for label in VOTES_HEADER:
            table.add_column(label, key=label)
        for row in rows:
            table.add_row(*row, key=row[0])
        self.query_one("#votes-text", Static).update("\n".join(votes_lines(votes)))
        self.border_title = (f"Human votes · {votes.n_votes} arena votes between these stacks"
                             if votes.n_votes else "Human votes")
