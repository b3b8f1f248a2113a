"""The recommendation, first on the Results screen: what to choose, under which
constraints, and one reason line per stack (`workbench.report.choice.recommend`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from workbench.report.choice import Choice


def choice_text(choice: Choice) -> Text:
    """Choose X (or the headline when nothing is chosen), constraints, reasons."""
    text = Text()
    if choice.chosen:
        text.append("Choose ", style="bold")
        text.append(choice.chosen, style="bold green")
    else:
        text.append(choice.headline, style="bold yellow")
    constraints = ", ".join(choice.constraints) or "none stored with this run"
    text.append(f"\nconstraints: {constraints}", style="dim")
    for r in choice.ranked:
        style = "green" if r.stack == choice.chosen else "red" if not r.feasible else ""
        text.append("\n• ")
        text.append(r.reason, style=style)
    return text


class ChoicePanel(VerticalScroll):
    """The recommendation in a scrollable, focusable panel (z zooms it)."""

    DEFAULT_CSS = """
    ChoicePanel {
        height: auto;
        max-height: 30%;
        min-height: 4;
        border: round $success;
        padding: 0 1;
    }
    ChoicePanel:focus {
        border: round $accent;
    }
    """

    def compose(self) -> ComposeResult:
        """One text block."""
        yield Static("no run selected: pick one in History (4)", id="choice-text")

    def show(self, choice: Choice, title: str) -> None:
        """Show `choice`; `title` names the run."""
        self.border_title = title
        self.query_one("#choice-text", Static).update(choice_text(choice))

    def message(self, text: str) -> None:
        """A plain line (scoring..., no run)."""
        self.query_one("#choice-text", Static).update(text)
