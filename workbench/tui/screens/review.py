"""Review: keep, edit or drop each question of a generated eval set (saved at once).

The table lists every question with its review state; the highlighted one's passage is
shown below it with its question and answer in two inputs. `k` keeps it, `d` drops it (to
`dropped.jsonl`), `r` restores a dropped one, Enter in an input saves the edit. Opened by
`workbench evalsets review PATH` (`ReviewApp`).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from workbench.evalsets.builder.review import ReviewError, ReviewSet
from workbench.tui.widgets.key_footer import KeyFooter

#: The question last: it is the long one, and gets whatever width is left (80 columns too).
COLUMNS = (("id", "Question id"), ("state", "State"), ("answer", "Answer"),
           ("question", "Question"))


def _answer(q: dict[str, object]) -> str:
    answers = q.get("answers")
    if q.get("answerable", True) is False:
        return "(unanswerable)"
    return str(answers[0]) if isinstance(answers, list) and answers else ""


class ReviewScreen(Screen[None]):
    """One generated set's questions, reviewed one by one."""

    DEFAULT_CSS = """
    ReviewScreen #review-table { height: 1fr; min-height: 5; }
    ReviewScreen #review-passage { height: 6; border: round $panel; padding: 0 1; }
    ReviewScreen Input { height: 3; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "keep", "Keep"),
        Binding("d", "drop", "Drop"),
        Binding("r", "restore", "Restore"),
        Binding("e", "edit", "Edit"),
        Binding("escape", "table", "Back to list", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, review: ReviewSet) -> None:
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        """Counts, the question table, the passage, and the two edit inputs."""
        yield Header()
        yield Static(id="review-counts", classes="hint")
        yield DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="review-passage"):
            yield Static(id="review-passage-text")
        yield Input(placeholder="question", id="review-question")
        yield Input(placeholder="answer (a span of the passage)", id="review-answer")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Fill the table and show the first question."""
        self.title = f"Review {self.review.folder.name}"
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self._fill()
        table.focus()

    @property
    def current_id(self) -> str | None:
        """The highlighted question's id."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _fill(self, select: str | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select or self.current_id
        table.clear()
        for q in self.review.rows():
            table.add_row(q["id"], self.review.status(q["id"]), _answer(q), q["question"],
                          key=q["id"])
        if keep is not None and keep in [q["id"] for q in self.review.rows()]:
            table.move_cursor(row=table.get_row_index(keep))
        c = self.review.counts()
        self.query_one("#review-counts", Static).update(
            f"{len(self.review.questions)} in the set: {c['new']} new, {c['kept']} kept, "
            f"{c['edited']} edited; {c['dropped']} dropped. Saved as you go.")
        self._show()

    def _show(self) -> None:
        qid = self.current_id
        text = self.query_one("#review-passage-text", Static)
        if qid is None:
            text.update("no questions")
            return
        q = self.review.find(qid)
        passage = self.review.passage_of(q)
        where = "held out (near miss stays)" if not q.get("answerable", True) else "gold"
        text.update(f"[b]{passage['id']}[/b] ({where}): {passage['text']}" if passage
                    else "(passage not found)")
        self.query_one("#review-question", Input).value = q["question"]
        self.query_one("#review-answer", Input).value = _answer(q)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show()

    def _act(self, what: str) -> None:
        qid = self.current_id
        if qid is None:
            return
        try:
            getattr(self.review, what)(qid)
        except ReviewError as exc:
            self.notify(str(exc), severity="error")
            return
        self._fill(select=qid)
        self.notify(f"{qid}: {self.review.status(qid)}")

    def action_keep(self) -> None:
        """Keep the highlighted question as it is."""
        self._act("keep")

    def action_drop(self) -> None:
        """Drop the highlighted question (to dropped.jsonl)."""
        self._act("drop")

    def action_restore(self) -> None:
        """Bring the highlighted dropped question back."""
        self._act("restore")

    def action_edit(self) -> None:
        """Edit the highlighted question (Enter saves)."""
        self.query_one("#review-question", Input).focus()

    def action_table(self) -> None:
        """Back to the question list."""
        self.query_one(DataTable).focus()

    @on(Input.Submitted)
    def _save_edit(self) -> None:
        qid = self.current_id
        if qid is None:
            return
        question = self.query_one("#review-question", Input).value
        answer = self.query_one("#review-answer", Input).value
        q = self.review.find(qid)
        try:
            self.review.edit(qid, question, answer if q.get("answerable", True) else None)
        except ReviewError as exc:
            self.notify(str(exc), severity="error")
            return
        self._fill(select=qid)
        self.query_one(DataTable).focus()
        self.notify(f"{qid}: saved")


class ReviewApp(App[None]):
    """`workbench evalsets review PATH`: the review screen on its own."""

    TITLE = "RAG A/B workbench"

    def __init__(self, review: ReviewSet) -> None:
        super().__init__()
        self.review = review

    def on_mount(self) -> None:
        """Open the review screen."""
        self.push_screen(ReviewScreen(self.review))
