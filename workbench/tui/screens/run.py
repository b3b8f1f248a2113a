"""Run: choose the eval set, 2-8 stacks (the first picked is the baseline unless one is
chosen), schedule and limit; start, watch each stack's progress, cancel, resume.

The run is the runner's own `execute` coroutine in an async worker on the app's event
loop, so cancelling the worker cancels the run: the runner marks it cancelled and every
answer stored so far stays. Resume reopens the stored run (`reopen_run`) and asks only
the missing pairs. Preparing (loading the eval set, resolving stacks) runs in a thread.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Input, Log, Select, Static

from workbench.evalsets.loader import shipped_evalsets
from workbench.records.responses import ResponseRecord
from workbench.runner.picks import stacks_problem
from workbench.runner.run import SCHEDULES, RunOptions
from workbench.runner.session import create_run, execute, reopen_run
from workbench.stacks.recipe import load_stacks
from workbench.store.db import Store
from workbench.tui.widgets.key_footer import KeyFooter
from workbench.tui.widgets.stack_picker import StackPicker
from workbench.tui.widgets.stack_progress import StackProgress

if TYPE_CHECKING:
    from workbench.runner.run import RunProgress
    from workbench.runner.session import PreparedRun
    from workbench.tui.app import WorkbenchApp

#: Phases shown on the state line; the last three are final.
PHASES = ("idle", "preparing", "running", "completed", "cancelled", "failed")
#: Stacks picked when the screen opens (those of them that exist).
DEFAULT_STACKS = ("llamacpp-cpu", "vllm-cpu")


def _default(names: list[str], wanted: str | None, fallback: int) -> str | None:
    if wanted in names:
        return wanted
    return names[min(fallback, len(names) - 1)] if names else None


def check_picked(picked: list[str], baseline: str | None) -> str | None:
    """Why the picked stacks cannot make a run (None when they can): the runner's own rule
    (`runner.picks`)."""
    problem = stacks_problem(picked, baseline)
    return None if problem is None else problem[1] + (
        " (space picks a stack)" if problem[0] == "stacks" else "")


class RunScreen(Screen[None]):
    """Start a run of 2-8 stacks and follow it."""

    # Priority: the limit field only takes digits, so letters are free for actions.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", priority=True),
        Binding("c", "cancel", "Cancel", priority=True),
        Binding("r", "resume", "Resume", priority=True),
    ]

    phase: reactive[str] = reactive("idle")

    class Prepared(Message):
        """A run is recorded (or reopened) and ready to execute."""

        def __init__(self, prepared: PreparedRun, pending: dict[str, int]) -> None:
            self.prepared = prepared
            self.pending = pending
            super().__init__()

    class Result(Message):
        """One response was stored."""

        def __init__(self, rec: ResponseRecord, progress: RunProgress) -> None:
            self.stack = rec.stack
            self.ok = rec.status == "ok"
            self.question_id = rec.question_id
            #: The failure as the runner stored it ("timeout: ...", "error: HTTP 500 ...").
            self.error = None if self.ok else f"{rec.status}: {rec.error or 'no message'}"
            self.e2e_s = rec.e2e_s
            self.done = progress.per_stack_done.get(rec.stack, 0)
            self.total = progress.per_stack_total.get(rec.stack, 0)
            self.errors = progress.errors.get(rec.stack, 0)
            super().__init__()

    class Finished(Message):
        """The run ended: completed, cancelled or failed (with the reason)."""

        def __init__(self, run_id: str, phase: str, detail: str = "") -> None:
            self.run_id = run_id
            self.phase = phase
            self.detail = detail
            super().__init__()

    class Note(Message):
        """A line for the run log (indexing done, warm-up, ...)."""

        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.run_id: str | None = None

    @property
    def wb(self) -> WorkbenchApp:
        """The app, typed."""
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        """The form, the state line, one progress line per stack, the run log."""
        settings = self.wb.settings
        evalsets = shipped_evalsets(settings)
        try:
            stacks = sorted(load_stacks(settings.stacks_dir))
        except Exception as exc:  # a broken recipe is reported, the screen still opens
            self.notify(f"stacks: {exc}", severity="error")
            stacks = []
        picked = [s for s in DEFAULT_STACKS if s in stacks] or stacks[:2]
        yield Header()
        with Horizontal(id="run-form"):
            yield StackPicker(stacks, picked, id="stack-picker")
            with Grid(id="run-fields"):
                yield Select([(e, e) for e in evalsets], prompt="eval set", id="evalset",
                             value=_default(evalsets, "demo-en", 0) or Select.NULL)
                yield Select([(s, s) for s in SCHEDULES], id="schedule", allow_blank=False,
                             value="interleaved")
                yield Select([(s, s) for s in stacks], prompt="baseline: [1]",
                             id="baseline")
                yield Input(placeholder="limit (questions)", type="integer", id="limit")
        yield Static("", id="run-state", classes="hint")
        yield VerticalScroll(id="progress")
        yield Log(id="run-log", max_lines=500)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show the idle state."""
        self.query_one("#run-log", Log).border_title = "Run log"
        self.query_one("#stack-picker").border_title = "Stacks (space: pick, in order)"
        self.query_one("#progress").border_title = "Progress per stack"
        self.watch_phase("idle")

    def watch_phase(self, phase: str) -> None:
        """The state line and its class follow the phase."""
        label = self.query_one("#run-state", Static)
        run = f"run {self.run_id}: " if self.run_id else ""
        hints = {"idle": "s: start a new run   r: resume the current run",
                 "preparing": "loading the eval set and checking the stacks …",
                 "running": "c: cancel (answers so far are kept)",
                 "completed": "3: results", "cancelled": "r: resume",
                 "failed": "r: resume once the stacks are up"}
        label.update(f"{run}{phase} · {hints.get(phase, '')}")
        label.set_class(phase == "failed", "error")
        label.set_class(phase == "completed", "success")

    def _log(self, text: str) -> None:
        self.query_one("#run-log", Log).write_line(text)

    def action_start(self) -> None:
        """Record a new run from the form and execute it."""
        if self.phase in ("preparing", "running"):
            self.notify("a run is in progress; cancel it first", severity="warning")
            return
        evalset = self.query_one("#evalset", Select).value
        if evalset is Select.NULL:
            self.notify("choose an eval set", severity="error")
            return
        # The order the stacks were picked in is the run order.
        picked = list(self.query_one(StackPicker).picked)
        chosen = self.query_one("#baseline", Select).value
        baseline = None if chosen is Select.NULL else str(chosen)
        problem = check_picked(picked, baseline)
        if problem:
            self.notify(problem, severity="error")
            return
        text = self.query_one("#limit", Input).value.strip()
        limit = int(text) if text else None
        self.phase = "preparing"
        self._create(str(evalset), picked, baseline,
                     str(self.query_one("#schedule", Select).value), limit)

    def action_resume(self) -> None:
        """Ask the missing pairs of this screen's run (else of the app's current run)."""
        if self.phase in ("preparing", "running"):
            return
        run_id = self.run_id or self.wb.run_id
        if run_id is None:
            self.notify("no run to resume", severity="warning")
            return
        self.run_id = run_id
        self.phase = "preparing"
        self._reopen(run_id)

    def action_cancel(self) -> None:
        """Cancel the running run (its worker)."""
        if self.phase != "running":
            return
        self.workers.cancel_group(self, "run")

    @work(thread=True, exclusive=True, group="prepare")
    def _create(self, evalset: str, stacks: list[str], baseline: str | None, schedule: str,
                limit: int | None) -> None:
        try:
            with Store(self.wb.db_path) as store:
                prepared = create_run(store, evalset, stacks, limit=limit,
                                      options=RunOptions(schedule=schedule),  # type: ignore[arg-type]
                                      baseline=baseline, settings=self.wb.settings)
        except Exception as exc:  # validation errors name the problem; show them
            self.post_message(self.Finished("", "failed", str(exc)))
            return
        n = len(prepared.questions)
        self.post_message(self.Prepared(prepared, dict.fromkeys(prepared.stacks, n)))

    @work(thread=True, exclusive=True, group="prepare")
    def _reopen(self, run_id: str) -> None:
        try:
            with Store(self.wb.db_path) as store:
                prepared = reopen_run(store, run_id, settings=self.wb.settings)
                answered = store.answered(run_id)
        except Exception as exc:  # e.g. the eval set changed since the run started
            self.post_message(self.Finished(run_id, "failed", str(exc)))
            return
        pending = {stack: sum((q.id, stack) not in answered for q in prepared.questions)
                   for stack in prepared.stacks}
        self.post_message(self.Prepared(prepared, pending))

    async def on_run_screen_prepared(self, message: Prepared) -> None:
        """One progress line per stack (a resumed run's replace the old ones), then start
        the run's worker."""
        prepared = message.prepared
        self.run_id = prepared.run_id
        # Results (3) follows the run while it runs: its live progress, then its results.
        self.wb.run_id = prepared.run_id
        panel = self.query_one("#progress", VerticalScroll)
        await panel.remove_children()
        for name in prepared.stacks:
            progress = StackProgress(name, baseline=name == prepared.baseline)
            await panel.mount(progress)
            progress.reset(message.pending[name])
        self._log(f"run {prepared.run_id}: {len(prepared.questions)} questions of "
                  f"{prepared.evalset.name} x {len(prepared.stacks)} stacks (baseline "
                  f"{prepared.baseline}), schedule {prepared.options.schedule}")
        self.phase = "running"
        self._execute(prepared)

    @work(exclusive=True, group="run")
    async def _execute(self, prepared: PreparedRun) -> None:
        store = self.wb.store
        run_id = prepared.run_id

        def on_result(rec: ResponseRecord, progress: RunProgress) -> None:
            # Called on the event loop as each response is stored; the handler redraws.
            self.post_message(self.Result(rec, progress))

        def on_status(note: str) -> None:
            self.post_message(self.Note(note))

        try:
            await execute(store, prepared, on_result, on_status)
        except asyncio.CancelledError:
            # The runner marks it too once it runs; this also covers cancelling while the
            # stacks were still being prepared.
            store.set_status(run_id, "cancelled")
            self.post_message(self.Finished(run_id, "cancelled"))
            raise
        except Exception as exc:  # RunError and friends carry a readable reason
            self.post_message(self.Finished(run_id, "failed", str(exc)))
            return
        self.post_message(self.Finished(run_id, "completed"))

    def on_run_screen_result(self, message: Result) -> None:
        """Move one stack's bar and counters."""
        widget = self.progress_of(message.stack)
        if widget is None:
            return
        if message.ok:
            widget.e2e_sum += message.e2e_s
        else:
            # Each failure in the log, named by stack and question (the bar only counts).
            self._log(f"{message.stack} · {message.question_id} · {message.error}")
        widget.total = message.total
        widget.errors = message.errors
        widget.done = message.done

    def progress_of(self, stack: str) -> StackProgress | None:
        """The progress line of `stack` (None before the run is prepared)."""
        return next((w for w in self.query(StackProgress) if w.stack == stack), None)

    def on_run_screen_note(self, message: Note) -> None:
        """Append a runner note to the log."""
        self._log(message.text)

    def on_run_screen_finished(self, message: Finished) -> None:
        """Show the outcome; the finished run becomes the app's current run."""
        if message.run_id:
            self.run_id = message.run_id
            self.wb.run_id = message.run_id
        self.phase = message.phase
        self._log(f"{message.phase}" + (f": {message.detail}" if message.detail else ""))
        if message.phase == "failed":
            self.notify(message.detail or "run failed", severity="error", timeout=15)
        else:
            self.notify(f"run {message.run_id} {message.phase}")
