"""A run's progress as stored: per stack, questions answered out of those planned and the
failed answers, for the header of a run in progress (Results tab) and the Run tab's panel.

Read from the store (the latest attempt per question and stack), so it is the same in
every session and browser, including for a run that another process is executing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from workbench.store.db import Store
from workbench.web.common import esc

#: Characters of the text progress bar.
BAR_WIDTH = 12


@dataclass(frozen=True)
class StackProgress:
    """One stack of a run: answered (latest attempt stored) of planned, and errors."""

    stack: str
    baseline: bool
    answered: int
    planned: int
    errors: int
    #: Failed latest attempts by status ("error", "timeout").
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float:
        """Answered / planned (0 when nothing is planned)."""
        return self.answered / self.planned if self.planned else 0.0


@dataclass(frozen=True)
class LiveRun:
    """A stored run's state and its stacks' progress, in run order."""

    run_id: str
    status: str
    evalset: str
    questions: int
    stacks: list[StackProgress]

    @property
    def answered(self) -> int:
        """Answers stored over every stack."""
        return sum(s.answered for s in self.stacks)

    @property
    def planned(self) -> int:
        """Answers the run asks for over every stack."""
        return sum(s.planned for s in self.stacks)


def live_run(store: Store, run_id: str) -> LiveRun:
    """The run's progress now (KeyError naming the id when unknown)."""
    run = store.get_run(run_id)
    entries = store.run_stacks(run_id)
    n = len(store.questions(run_id))
    answered: Counter[str] = Counter()
    failed: dict[str, Counter[str]] = {e["name"]: Counter() for e in entries}
    for (_, stack), (_, status) in store.answered(run_id).items():
        answered[stack] += 1
        if status != "ok" and stack in failed:
            failed[stack][status] += 1
    stacks = [StackProgress(stack=e["name"], baseline=e["baseline"],
                            answered=answered[e["name"]], planned=n,
                            errors=sum(failed[e["name"]].values()),
                            error_kinds=dict(failed[e["name"]]))
              for e in entries]
    return LiveRun(run_id=run_id, status=str(run["status"]), evalset=str(run["evalset"]),
                   questions=n, stacks=stacks)


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


def progress_table(live: LiveRun, *, mean_e2e_s: dict[str, float | None] | None = None,
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
                 _errors(s, (last_error or {}).get(s.stack))]
        if mean_e2e_s is not None:
            value = mean_e2e_s.get(s.stack)
            cells.append("-" if value is None else f"{value:.2f} s")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def live_header(live: LiveRun) -> str:
    """The header of a run that has not completed: its state and stacks, then the table."""
    names = ", ".join(esc(s.stack) for s in live.stacks)
    head = (f"**Run `{live.run_id}` is {live.status}**: {len(live.stacks)} stacks ({names}), "
            f"eval set {esc(live.evalset)}, {live.answered} of {live.planned} answers "
            f"stored, {sum(s.errors for s in live.stacks)} failed.")
    return "\n".join([head, "", *progress_table(live)])
