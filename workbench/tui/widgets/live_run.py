"""A run that has not completed, on the Results screen: its status, its stacks, each one's
answered / planned with a bar, its failures and the latest failure's message
(`workbench.store.progress.run_state`, polled; the runner may be another process)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from workbench.store.progress import RunState

BAR = 12
NAME_WIDTH = 24


def now() -> datetime:
    """The clock "last answer N s ago" is read against (a function, so tests can pin it)."""
    return datetime.now(UTC)


def _bar(share: float) -> str:
    filled = round(max(0.0, min(1.0, share)) * BAR)
    return "█" * filled + "░" * (BAR - filled)


def _ago(utc: str | None, now: datetime) -> str:
    if utc is None:
        return "no answer yet"
    try:
        then = datetime.fromisoformat(utc.replace("Z", "+00:00"))
    except ValueError:
        return f"last answer {utc}"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"last answer {seconds} s ago"
    if seconds < 7200:
        return f"last answer {seconds // 60} min ago"
    return f"last answer {then:%Y-%m-%d %H:%M} UTC"


def live_text(state: RunState, tags: dict[str, str], at: datetime | None = None) -> Text:
    """One line for the run, then one per stack: tag: name, bar, answered/planned, errors
    and the latest error (cut to the line; the run log and the detail have it whole)."""
    at = at or datetime.now(UTC)
    text = Text()
    text.append(f"{state.status}", style="bold yellow" if state.status == "running" else "bold")
    text.append(f" · {state.answered} of {state.planned} answers · {state.errors} failed · "
                f"{_ago(state.last_answer_utc, at)}")
    for s in state.stacks:
        name = f"{tags.get(s.stack, '?')}: {s.stack}" + (" (base)" if s.baseline else "")
        text.append("\n")
        text.append(f"{name[:NAME_WIDTH]:<{NAME_WIDTH}} ", style="bold" if s.baseline else "")
        text.append(_bar(s.share), style="green" if s.answered >= s.planned else "cyan")
        text.append(f" {s.answered}/{s.planned}")
        text.append(f" err {s.errors}", style="red" if s.errors else "dim")
        if s.last_error:
            text.append(f" · {s.last_error}", style="red")
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class LiveRunPanel(Static):
    """Shown above the recommendation while the run is not completed."""

    DEFAULT_CSS = """
    LiveRunPanel {
        height: auto;
        max-height: 11;
        border: round $warning;
        padding: 0 1;
    }
    """

    def show(self, state: RunState, tags: dict[str, str]) -> None:
        """Draw `state` (tags: the stacks' short names, as in the leaderboard)."""
        self.border_title = f"Run {state.run_id} · {len(state.stacks)} stacks · {state.evalset}"
        self.border_subtitle = ("results below are provisional · ctrl+r rescores"
                                if state.answered else "")
        self.update(live_text(state, tags, now()))
