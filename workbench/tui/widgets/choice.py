"""The recommendation, first on the Results screen: what to choose, under which
constraints, and one reason line per stack (`workbench.report.choice.recommend`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.events import Resize

    from workbench.report.choice import Choice

#: Narrower than this, reasons drop their CIs (the comparisons panel, v, has them) and the
#: cost per correct answer, so a three-stack run's reasons fit 80x24 (two lines each).
COMPACT_BELOW = 100
_CI = re.compile(r" \[[^\]]*\]")
#: The level and Holm p after an interval: "(97.5% CI, Holm p 0.004)".
_LEVEL = re.compile(r" \([0-9.]+% CI[^)]*\)")
_OF_N = re.compile(r"( of [0-9]+) questions")
#: The median and p95 beside the mean E2E (the full line, z, has them; "mixed" stays).
_TAILS = re.compile(r", median [+-][0-9]+%(, p95 [+-][0-9]+%)?")
_PER_CORRECT = re.compile(r", ([0-9.]+ per correct answer|per correct answer [+-][0-9]+%)")


def compact_reason(reason: str) -> str:
    """A reason line without its bracketed CIs, their levels and its cost per correct
    answer, and the median and p95 beside the mean E2E: "worse than X by -0.243; vs X:
    faster: mean E2E -34%, faster on 28 of 39; 0.10 USD/1k"."""
    short = _TAILS.sub("", _PER_CORRECT.sub("", _LEVEL.sub("", _CI.sub("", reason))))
    return _OF_N.sub(r"\1", short).replace(" per 1,000 answers", "/1k")


def constraints_text(choice: Choice) -> str:
    """"constraints: e2e.p95<=2s, f1>=0.2" (the panel's subtitle)."""
    return "constraints: " + (", ".join(choice.constraints) or "none stored with this run")


def choice_text(choice: Choice, *, compact: bool = False) -> Text:
    """"Choose X: its reason" (or the headline when nothing is chosen), then one reason
    line per other stack; the constraints are the panel's subtitle, so that at 80x24 every
    stack of a three-stack run has its reason on screen (`compact`: `compact_reason`)."""
    def short(line: str) -> str:
        return compact_reason(line) if compact else line

    text = Text()
    if choice.chosen:
        text.append("Choose ", style="bold")
        text.append(choice.chosen, style="bold green")
        mine = next((r.reason for r in choice.ranked if r.stack == choice.chosen), "")
        text.append(short(mine.removeprefix(f"choose {choice.chosen}")))
    else:
        text.append(short(choice.headline), style="bold yellow")
    for r in choice.ranked:
        if r.stack == choice.chosen:
            continue
        text.append("\n• ")
        text.append(short(r.reason), style="red" if not r.feasible else "")
    return text


class ChoicePanel(VerticalScroll):
    """The recommendation in a scrollable, focusable panel (z zooms it)."""

    DEFAULT_CSS = """
    ChoicePanel {
        height: auto;
        max-height: 40%;
        min-height: 4;
        border: round $success;
        padding: 0 1;
    }
    ChoicePanel:focus {
        border: round $accent;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choice: Choice | None = None

    def compose(self) -> ComposeResult:
        """One text block."""
        yield Static("no run selected: pick one in History (4)", id="choice-text")

    @property
    def compact(self) -> bool:
        """Whether the reasons are shortened for a narrow terminal."""
        return self.app.size.width < COMPACT_BELOW

    def show(self, choice: Choice, title: str) -> None:
        """Show `choice`; `title` names the run."""
        self.choice = choice
        self.border_title = title
        self.border_subtitle = constraints_text(choice)
        self._draw()

    def _draw(self) -> None:
        if self.choice is not None:
            self.query_one("#choice-text", Static).update(
                choice_text(self.choice, compact=self.compact))

    def on_resize(self, event: Resize) -> None:
        """Full or compact reasons, as the terminal's width allows."""
        self._draw()

    def message(self, text: str) -> None:
        """A plain line (scoring..., no run)."""
        self.choice = None
        self.query_one("#choice-text", Static).update(text)
