"""The per-question table: every stack's F1 and E2E, who won against the baseline (for
one candidate at a time), sortable by any column, filtered by outcome, filled lazily.

A 5,000-question run has 5,000 rows; adding them all to a DataTable costs seconds of
layout work, so the table holds the filtered and sorted list in Python and adds rows in
pages of `PAGE` as the cursor approaches the end (the user never sees the difference).
Stacks are headed by their short tags (A/B, or 1..N; the leaderboard names them). When
every stack's F1 and E2E do not fit the width (3 or more stacks at 80 columns), the table
shows the baseline and the candidate (then others while they fit) and says so in its
title; `n` picks the next candidate, so every stack can be seen, and no cell is cut.
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
#: The fixed columns: key -> (header, width). The outcome columns hold a stack's tag,
#: "tie", "error" or "unpaired" (8 characters: at 6 it was cut to "unpair").
FIXED = {"pos": ("#", 3), "question": ("Question", 20), "outcome": ("F1 win", 8),
         "faster": ("Faster", 8)}
#: One stack's columns: F1 ("0.57") and E2E (at most 7 characters: `seconds_text`).
F1_WIDTH, E2E_WIDTH = 5, 7
#: The question text's narrowest and widest column (it takes what the stacks leave).
QUESTION_MIN, QUESTION_MAX = 12, 48
#: Cells are padded by one space on each side; the vertical scrollbar takes two columns
#: (and the border two more, outside the widget's own size).
PAD, SCROLLBAR, BORDER = 2, 2, 2

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
    def _width(self) -> int:
        """Columns the cells may use: the table's content width (the screen's less the
        border before the first layout) less the scrollbar."""
        return (self.size.width or self.app.size.width - BORDER) - SCROLLBAR

    def _layout(self) -> tuple[list[str], int]:
        """(the stacks shown, in run order; the question column's width) at this width:
        every stack when all fit, else the baseline and the candidate first, then the
        others in run order while they fit."""
        pos = max(FIXED["pos"][1], len(str(len(self.questions))))
        fixed = pos + PAD + (FIXED["outcome"][1] + FIXED["faster"][1] + 2 * PAD
                             if self.outcomes else 0)
        per_stack = F1_WIDTH + E2E_WIDTH + 2 * PAD
        room = self._width() - fixed - QUESTION_MIN - PAD
        fit = max(2, room // per_stack)
        if fit >= len(self.stacks):
            shown = list(self.stacks)
        else:
            first = [s for s in (self.baseline, self.candidate) if s in self.stacks]
            rest = [s for s in self.stacks if s not in first]
            keep = set(first + rest[:max(0, fit - len(first))])
            shown = [s for s in self.stacks if s in keep]
        question = self._width() - fixed - len(shown) * per_stack - PAD
        return shown, max(QUESTION_MIN, min(QUESTION_MAX, question))

    def columns_spec(self) -> dict[str, tuple[str, int, Callable[[Row], Any]]]:
        """Column key -> (header, width, sort key), for the stacks that fit the width."""
        cand = self.candidate
        shown, question = self._layout()
        pos = max(FIXED["pos"][1], len(str(len(self.questions))))
        spec: dict[str, tuple[str, int, Callable[[Row], Any]]] = {
            "pos": ("#", pos, lambda ir: ir[0]),
            "question": ("Question", question, lambda ir: ir[1].question.casefold()),
        }
        if self.outcomes:
            spec["outcome"] = (*FIXED["outcome"], lambda ir: ir[1].outcome.get(cand, ""))
        for s in shown:
            spec[f"f1:{s}"] = (f"F1 {self.tags.get(s, s)}", F1_WIDTH, _f1_of(s))
        for s in shown:
            spec[f"e2e:{s}"] = (f"E2E {self.tags.get(s, s)}", E2E_WIDTH, _e2e_of(s))
        if self.outcomes:
            spec["faster"] = (*FIXED["faster"],
                              lambda ir: ir[1].latency_outcome.get(cand, ""))
        return spec

    @property
    def shown_stacks(self) -> list[str]:
        """The stacks whose columns are on screen (all of them when they fit)."""
        return [str(k.value).removeprefix("f1:") for k in self.columns
                if str(k.value).startswith("f1:")]

    def header(self, key: str) -> str:
        """A column's header."""
        return self.columns_spec()[key][0]

    def _tag(self, outcome: str) -> str:
        return self.tags.get(outcome, outcome)

    def row_cells(self, pos: int, r: QuestionRow) -> tuple[str | Text, ...]:
        """The displayed cells of one question (of the stacks shown)."""
        stacks = self.shown_stacks
        scores = (*[_score((r.scores.get(s) or {}).get("f1")) for s in stacks],
                  *[_ms(r.e2e.get(s)) for s in stacks])
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
        self._columns()

    def _columns(self) -> None:
        """Lay the columns out for the width and the candidate, then the rows."""
        spec = self.columns_spec()
        self.clear(columns=True)
        for key, (label, width, _) in spec.items():
            self.add_column(label, width=width, key=key)
        shown = self.shown_stacks
        self.border_title = ("" if len(shown) == len(self.stacks) else
                             f"F1 · E2E of {', '.join(self.tags.get(s, s) for s in shown)} "
                             f"of {len(self.stacks)} stacks · n: next candidate")
        if self.sort_key not in spec:
            self.sort_key = "pos"
        self._rebuild()

    def set_candidate(self, candidate: str) -> None:
        """Show outcomes of `candidate` against the baseline (and its columns, when not
        every stack fits)."""
        self.candidate = candidate
        if self.columns_spec().keys() != {str(k.value) for k in self.columns}:
            self._columns()
        else:
            self._rebuild()

    def on_resize(self) -> None:
        """Lay the columns out again when another set of stacks, or another question
        width, fits the new size."""
        if not self.stacks:
            return
        spec = self.columns_spec()
        now = {str(k.value): c.width for k, c in self.columns.items()}
        if {k: w for k, (_, w, _) in spec.items()} != now:
            self._columns()

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
