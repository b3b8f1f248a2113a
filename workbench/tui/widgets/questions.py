"""The per-question table: sortable by any column, filtered by outcome, filled lazily.

A 5,000-question run has 5,000 rows; adding them all to a DataTable costs seconds of
layout work, so the table holds the filtered and sorted list in Python and adds rows in
pages of `PAGE` as the cursor approaches the end (the user never sees the difference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

if TYPE_CHECKING:
    from workbench.report.models import QuestionRow

Filter = Literal["all", "wins", "losses", "ties", "errors"]
#: Filter -> the row outcomes it keeps. Wins and losses are B's, as in the verdict (B vs A).
FILTERS: dict[Filter, frozenset[str]] = {
    "all": frozenset({"A", "B", "tie", "error", "unpaired"}),
    "wins": frozenset({"B"}),
    "losses": frozenset({"A"}),
    "ties": frozenset({"tie"}),
    "errors": frozenset({"error", "unpaired"}),
}
#: Rows added at a time: a few screens' worth, so a re-sort or re-filter stays cheap.
PAGE = 100


def _num(v: float | None) -> float:
    # Missing values sort last in ascending order.
    return float("inf") if v is None else v


#: Column key -> (header, width, sort key).
COLUMNS: dict[str, tuple[str, int, Callable[[tuple[int, QuestionRow]], Any]]] = {
    "pos": ("#", 5, lambda ir: ir[0]),
    "question": ("Question", 34, lambda ir: ir[1].question.casefold()),
    "outcome": ("F1 win", 6, lambda ir: ir[1].outcome),
    "f1_a": ("F1 A", 5, lambda ir: _num(ir[1].scores_a.get("f1"))),
    "f1_b": ("F1 B", 5, lambda ir: _num(ir[1].scores_b.get("f1"))),
    "e2e_a": ("E2E A", 8, lambda ir: _num(ir[1].e2e_a)),
    "e2e_b": ("E2E B", 8, lambda ir: _num(ir[1].e2e_b)),
    "faster": ("Faster", 6, lambda ir: ir[1].latency_outcome),
}


def _score(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.0f} ms"


def row_cells(pos: int, r: QuestionRow) -> tuple[str | Text, ...]:
    """The displayed cells of one question."""
    outcome = Text(r.outcome, style="bold red" if r.outcome in ("error", "unpaired") else "")
    return (
        str(pos + 1), r.question.replace("\n", " "), outcome, _score(r.scores_a.get("f1")),
        _score(r.scores_b.get("f1")), _ms(r.e2e_a), _ms(r.e2e_b), r.latency_outcome,
    )


class QuestionTable(DataTable[str | Text]):
    """Questions of a scorecard with both sides' F1 and E2E; row key = question id."""

    DEFAULT_CSS = """
    QuestionTable {
        height: 1fr;
        border: round $primary-muted;
    }
    QuestionTable:focus {
        border: round $accent;
    }
    """

    class ViewChanged(Message):
        """The filter or sort changed: `shown` of `total` rows match."""

        def __init__(self, shown: int, total: int) -> None:
            self.shown = shown
            self.total = total
            super().__init__()

    filter: reactive[Filter] = reactive("all")
    sort_key: reactive[str] = reactive("pos")
    sort_reverse: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.questions: list[QuestionRow] = []
        self.view: list[tuple[int, QuestionRow]] = []
        self._added = 0

    def on_mount(self) -> None:
        """Columns once; rows come with `load`."""
        for key, (label, width, _) in COLUMNS.items():
            self.add_column(label, width=width, key=key)

    def load(self, rows: list[QuestionRow]) -> None:
        """Show a new scorecard's questions."""
        self.questions = rows
        self._rebuild()

    def row_for(self, question_id: str) -> QuestionRow:
        """The QuestionRow behind a row key."""
        for _, r in self.view:
            if r.question_id == question_id:
                return r
        raise KeyError(question_id)

    def watch_filter(self) -> None:
        """Re-filter from the full list."""
        self._rebuild()

    def watch_sort_key(self) -> None:
        """Re-sort by the new column."""
        self._rebuild()

    def watch_sort_reverse(self) -> None:
        """Re-sort in the other order."""
        self._rebuild()

    def sort_by(self, key: str) -> None:
        """Sort by column `key`; sorting by the same column again reverses the order."""
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_reverse = False
            self.sort_key = key

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click (or Enter on a header) sorts by that column."""
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        keep = FILTERS[self.filter]
        view = [(i, r) for i, r in enumerate(self.questions) if r.outcome in keep]
        view.sort(key=COLUMNS[self.sort_key][2], reverse=self.sort_reverse)
        self.view = view
        self.clear()
        self._added = 0
        self._add_page()
        self.post_message(self.ViewChanged(len(view), len(self.questions)))

    def _add_page(self) -> None:
        page = self.view[self._added:self._added + PAGE]
        for i, r in page:
            self.add_row(*row_cells(i, r), key=r.question_id)
        self._added += len(page)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Add the next page before the cursor reaches the last added row."""
        if self._added < len(self.view) and event.cursor_row >= self._added - PAGE // 4:
            self._add_page()
