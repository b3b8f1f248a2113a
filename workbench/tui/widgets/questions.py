"""The per-question table: every stack's F1 and E2E, who won against the baseline (for
one candidate at a time), sortable by any column, filtered by outcome, filled lazily.

A 5,000-question run has 5,000 rows; adding them all to a DataTable costs seconds of
layout work, so the table holds the filtered and sorted list in Python and adds rows in
pages of `PAGE` as the cursor approaches the end (the user never sees the difference).
Stacks are headed by their short tags (A/B, or 1..N; the leaderboard names them).
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
#: Rows added at a time: a few screens' worth, so a re-sort or re-filter stays cheap.
PAGE = 100
#: The fixed columns: key -> (header, width).
FIXED = {"pos": ("#", 3), "question": ("Question", 20), "outcome": ("F1 win", 6),
         "faster": ("Faster", 6)}

Row = tuple[int, "QuestionRow"]


def _num(v: float | None) -> float:
    # Missing values sort last in ascending order.
    return float("inf") if v is None else v


def _score(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _ms(v: float | None) -> str:
    # The leaderboard's latency text (at most 7 characters: "15871 ms" was cut to
    # "15871 m"); imported here because workbench.report loads scipy, never at app start.
    from workbench.report.leaderboard import seconds_text

    return "-" if v is None else seconds_text(v)


def _f1_of(stack: str) -> Callable[[Row], float]:
    return lambda ir: _num((ir[1].scores.get(stack) or {}).get("f1"))


def _e2e_of(stack: str) -> Callable[[Row], float]:
    return lambda ir: _num(ir[1].e2e.get(stack))


class QuestionTable(DataTable[str | Text]):
    """Questions of a scorecard with every stack's F1 and E2E; row key = question id."""

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
        self.view: list[Row] = []
        self.stacks: list[str] = []
        self.tags: dict[str, str] = {}
        self.baseline = ""
        #: The candidate whose outcome against the baseline the filter and "F1 win" show.
        self.candidate = ""
        #: Whether the rows carry outcomes ("F1 win", "Faster"): not while a run is in
        #: progress (`report.provisional.without_outcomes`).
        self.outcomes = True
        self._added = 0

    # --- columns ------------------------------------------------------------------------
    def columns_spec(self) -> dict[str, tuple[str, int, Callable[[Row], Any]]]:
        """Column key -> (header, width, sort key), for the loaded run's stacks."""
        cand = self.candidate
        spec: dict[str, tuple[str, int, Callable[[Row], Any]]] = {
            "pos": (*FIXED["pos"], lambda ir: ir[0]),
            "question": (*FIXED["question"], lambda ir: ir[1].question.casefold()),
        }
        if self.outcomes:
            spec["outcome"] = (*FIXED["outcome"], lambda ir: ir[1].outcome.get(cand, ""))
        for s in self.stacks:
            spec[f"f1:{s}"] = (f"F1 {self.tags.get(s, s)}", 5, _f1_of(s))
        for s in self.stacks:
            spec[f"e2e:{s}"] = (f"E2E {self.tags.get(s, s)}", 7, _e2e_of(s))
        if self.outcomes:
            spec["faster"] = (*FIXED["faster"],
                              lambda ir: ir[1].latency_outcome.get(cand, ""))
        return spec

    def header(self, key: str) -> str:
        """A column's header."""
        return self.columns_spec()[key][0]

    def _tag(self, outcome: str) -> str:
        return self.tags.get(outcome, outcome)

    def row_cells(self, pos: int, r: QuestionRow) -> tuple[str | Text, ...]:
        """The displayed cells of one question."""
        scores = (*[_score((r.scores.get(s) or {}).get("f1")) for s in self.stacks],
                  *[_ms(r.e2e.get(s)) for s in self.stacks])
        if not self.outcomes:  # a run in progress: no winner, no faster
            return (str(pos + 1), r.question.replace("\n", " "), *scores)
        outcome = r.outcome.get(self.candidate, "unpaired")
        shown = Text(self._tag(outcome),
                     style="bold red" if outcome in ("error", "unpaired") else "")
        return (str(pos + 1), r.question.replace("\n", " "), shown, *scores,
                self._tag(r.latency_outcome.get(self.candidate, "-")))

    # --- data ---------------------------------------------------------------------------
    def load(self, rows: list[QuestionRow], stacks: list[str], baseline: str,
             tags: dict[str, str]) -> None:
        """Show a new scorecard's questions (outcomes of its first candidate)."""
        self.questions, self.stacks, self.baseline, self.tags = rows, stacks, baseline, tags
        self.outcomes = any(r.outcome or r.latency_outcome for r in rows)
        self.candidate = next((s for s in stacks if s != baseline), "")
        self.clear(columns=True)
        for key, (label, width, _) in self.columns_spec().items():
            self.add_column(label, width=width, key=key)
        if self.sort_key not in self.columns_spec():
            self.sort_key = "pos"
        self._rebuild()

    def set_candidate(self, candidate: str) -> None:
        """Show outcomes of `candidate` against the baseline."""
        self.candidate = candidate
        self._rebuild()

    def keeps(self, r: QuestionRow) -> bool:
        """Whether the row passes the filter (the candidate's outcome against the baseline)."""
        # A run in progress has no outcomes: only "all" keeps rows.
        outcome = r.outcome.get(self.candidate, "unpaired" if self.outcomes else "")
        return {"all": True, "wins": outcome == self.candidate,
                "losses": outcome == self.baseline, "ties": outcome == "tie",
                "errors": outcome in ("error", "unpaired")}[self.filter]

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
        if not self.is_mounted or not self.stacks:
            return
        view = [(i, r) for i, r in enumerate(self.questions) if self.keeps(r)]
        view.sort(key=self.columns_spec()[self.sort_key][2], reverse=self.sort_reverse)
        self.view = view
        self.clear()
        self._added = 0
        self._add_page()
        self.post_message(self.ViewChanged(len(view), len(self.questions)))

    def _add_page(self) -> None:
        page = self.view[self._added:self._added + PAGE]
        for i, r in page:
            self.add_row(*self.row_cells(i, r), key=r.question_id)
        self._added += len(page)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Add the next page before the cursor reaches the last added row."""
        if self._added < len(self.view) and event.cursor_row >= self._added - PAGE // 4:
            self._add_page()
