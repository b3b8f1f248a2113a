"""Both answers to one question side by side, with the gold answer and retrieved contexts."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from workbench.runner.records import ResponseRecord
from workbench.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from workbench.report.models import QuestionRow

#: Characters of a retrieved passage shown (a chunk can be a page long).
PASSAGE_CHARS = 400


def side_text(side: str, stack: str, record: ResponseRecord | None,
              scores: dict[str, float | None], gold_ids: list[str]) -> Text:
    """One side's answer, status, timings, scores and retrieved passages (gold marked)."""
    text = Text()
    text.append(f"{side}: {stack}\n", style="bold")
    if record is None:
        text.append("no response stored\n", style="bold red")
        return text
    if record.status != "ok":
        text.append(f"{record.status}: {record.error or ''}\n", style="bold red")
    text.append(record.answer or "(empty answer)")
    text.append("\n\n")
    ttft = record.ttft_s
    text.append(f"E2E {record.e2e_s * 1000:.0f} ms"
                + (f"  TTFT {ttft * 1000:.0f} ms" if ttft is not None else "")
                + f"  tokens {record.completion_tokens or '-'}\n", style="dim")
    shown = {k: v for k, v in scores.items() if v is not None and k in
             ("f1", "exact_match", "hit@5", "mrr")}
    text.append("  ".join(f"{k} {v:.2f}" for k, v in shown.items()) + "\n\n", style="dim")
    text.append("Retrieved contexts\n", style="bold underline")
    for s in record.sources:
        gold = s.doc_id in gold_ids
        mark = "★ GOLD " if gold else ""
        text.append(f"{s.rank}. {mark}{s.doc_id}", style="bold green" if gold else "bold")
        if s.score is not None:
            text.append(f"  ({s.score:.3f})", style="dim")
        text.append("\n")
        if s.text:
            body = s.text if len(s.text) <= PASSAGE_CHARS else s.text[:PASSAGE_CHARS] + "…"
            text.append(body + "\n")
    if not record.sources:
        text.append("(none)\n", style="dim")
    return text


class DetailScreen(Screen[None]):
    """One question: the question and gold on top, A's and B's answers side by side."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("left", "focus('#side-a')", "A", show=False),
        Binding("right", "focus('#side-b')", "B", show=False),
    ]

    def __init__(self, row: QuestionRow, records: dict[str, ResponseRecord],
                 gold_ids: list[str], stacks: dict[str, str]) -> None:
        super().__init__()
        self.row = row
        self.records = records
        self.gold_ids = gold_ids
        self.stacks = stacks

    def compose(self) -> ComposeResult:
        """Question and gold, then the two panes."""
        r = self.row
        head = Text()
        head.append(f"{r.question_id} ({r.lang}{'' if r.answerable else ', unanswerable'}): ",
                    style="dim")
        head.append(r.question + "\n", style="bold")
        head.append("Gold answer: ", style="bold")
        head.append(" | ".join(r.gold) or "(none: should refuse)")
        head.append(f"\nGold passages: {', '.join(self.gold_ids) or '-'}"
                    f"   F1 winner: {r.outcome}   faster: {r.latency_outcome}", style="dim")
        yield Header()
        yield Static(head, id="detail-question")
        with Horizontal(id="detail-sides"):
            for side, scores in (("A", r.scores_a), ("B", r.scores_b)):
                with VerticalScroll(id=f"side-{side.lower()}", classes="side-pane"):
                    yield Static(side_text(side, self.stacks.get(side, ""),
                                           self.records.get(side), scores, self.gold_ids),
                                 classes="answer")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Focus A's pane so the arrow keys scroll at once."""
        self.query_one("#side-a").focus()
