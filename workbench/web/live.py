"""A run's progress as stored: per stack, questions answered out of those planned and the
failed answers, for the header of a run in progress (Results tab) and the Run tab's panel.

The numbers are `store.progress.run_state`'s (the TUI's live panel reads the same), so it
is the same in every session and browser, including for a run another process executes.
"""

from __future__ import annotations

from workbench.store.progress import RunState, StackProgress
from workbench.web.common import esc

#: Characters of the text progress bar.
BAR_WIDTH = 12


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A text progress bar (monospace in a code span)."""
    filled = round(max(0.0, min(1.0, share)) * width)
    return "`" + "█" * filled + "░" * (width - filled) + "`"


def _errors(s: StackProgress, last_error: str | None) -> str:
    if not s.errors:
        return "0"
    text = f"**{s.errors}**"
    if set(s.error_kinds) != {"error"}:  # say which kinds when not all plain errors
        text += " (" + ", ".join(f"{n} {k}" for k, n in sorted(s.error_kinds.items())) + ")"
    if last_error:
        text += f"<br><small>last: {esc(last_error[:140]).replace('|', '/')}</small>"
    return text


def progress_table(live: RunState, *, mean_e2e_s: dict[str, float | None] | None = None,
                   last_error: dict[str, str] | None = None) -> list[str]:
    """Markdown rows: stack, answered / planned with a bar, errors (kinds, the latest
    message when known), and the running mean E2E when given."""
    e2e = mean_e2e_s is not None
    head = "| stack | answered / planned | progress | errors |" + (" mean E2E (ok) |" if e2e
                                                                   else "")
    rows = [head, "|---|---|---|---|" + ("---|" if e2e else "")]
    for s in live.stacks:
        label = esc(s.stack) + (" (baseline)" if s.baseline else "")
        cells = [label, f"{s.answered} / {s.planned}", f"{bar(s.share)} {s.share:.0%}",
                 _errors(s, (last_error or {}).get(s.stack) or s.last_error)]
        if mean_e2e_s is not None:
            value = mean_e2e_s.get(s.stack)
            cells.append("-" if value is None else f"{value:.2f} s")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def live_header(live: RunState) -> str:
    """The header of a run that has not completed: its state and stacks, then the table."""
    names = ", ".join(esc(s.stack) for s in live.stacks)
    head = (f"**Run `{live.run_id}` is {live.status}**: {len(live.stacks)} stacks ({names}), "
            f"eval set {esc(live.evalset)}, {live.answered} of {live.planned} answers "
            f"stored, {sum(s.errors for s in live.stacks)} failed.")
    return "\n".join([head, "", *progress_table(live)])
