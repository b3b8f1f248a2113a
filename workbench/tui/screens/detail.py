"""Every stack's answer to one question side by side, with the gold answer and the
retrieved contexts (left/right move between the stacks' panes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from workbench.records.responses import ResponseRecord
from workbench.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from workbench.report.models import QuestionRow, ScoreCard

#: Characters of a retrieved passage shown (a chunk can be a page long).
PASSAGE_CHARS = 400
#: Narrowest a stack's pane gets; past that the panes scroll sideways (left/right).
MIN_PANE_WIDTH = 38


def stack_text(label: str, record: ResponseRecord | None, scores: dict[str, float | None],
               gold_ids: list[str], against: str = "") -> Text:
    """One stack's answer, status, timings, scores and retrieved passages (gold marked);
    `against` says how it did against the baseline on this question."""
    text = Text()
    text.append(f"{label}\n", style="bold")
    if against:
        text.append(f"{against}\n", style="dim")
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
    """One question: the question and gold on top, one pane per stack side by side."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        # Priority: a focused pane would take left/right for sideways scrolling.
        Binding("left", "move(-1)", "Previous stack", show=False, priority=True),
        Binding("right", "move(1)", "Next stack", show=False, priority=True),
    ]

    def __init__(self, row: QuestionRow, records: dict[str, ResponseRecord],
                 gold_ids: list[str], card: ScoreCard) -> None:
        super().__init__()
        self.row = row
        self.records = records
        self.gold_ids = gold_ids
        self.card = card

    def _against(self, stack: str) -> str:
        if stack == self.card.baseline:
            return "baseline"
        from workbench.report.provisional import has_outcomes  # loaded with the card

        if not has_outcomes(self.card):  # a run in progress: no winner, no faster
            return "provisional: no comparison until the run is complete"
        won = self.row.outcome.get(stack, "unpaired")
        faster = self.row.latency_outcome.get(stack, "-")
        return f"vs baseline: F1 winner {won}, faster {faster}"

    def compose(self) -> ComposeResult:
        """Question and gold, then one pane per stack."""
        r = self.row
        head = Text()
        head.append(f"{r.question_id} ({r.lang}{'' if r.answerable else ', unanswerable'}): ",
                    style="dim")
        head.append(r.question + "\n", style="bold")
        head.append("Gold answer: ", style="bold")
        head.append(" | ".join(r.gold) or "(none: should refuse)")
        head.append(f"\nGold passages: {', '.join(self.gold_ids) or '-'}", style="dim")
        yield Header()
        yield Static(head, id="detail-question")
        with HorizontalScroll(id="detail-stacks"):
            for i, stack in enumerate(self.card.stacks):
                with VerticalScroll(id=f"stack-{i}", classes="stack-pane"):
                    yield Static(stack_text(self.card.label(stack), self.records.get(stack),
                                            r.scores.get(stack) or {}, self.gold_ids,
                                            self._against(stack)),
                                 classes="answer")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Focus the first pane so the arrow keys scroll at once."""
        self.query_one("#stack-0").focus()
        self._size_panes(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        """Share the width between the stacks' panes."""
        self._size_panes(event.size.width)

    def _size_panes(self, width: int) -> None:
        panes = list(self.query(".stack-pane"))
        if panes:
            each = max(MIN_PANE_WIDTH, width // len(panes))
            for pane in panes:
                pane.styles.width = each

    def action_move(self, step: int) -> None:
        """Focus the previous / next stack's pane (and scroll it into view)."""
        panes = list(self.query(".stack-pane"))
        current = next((i for i, p in enumerate(panes) if p.has_focus), 0)
        pane = panes[(current + step) % len(panes)]
        pane.focus()
        pane.scroll_visible()
