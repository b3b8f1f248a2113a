"""Long work off the UI's threads: a run of 2-8 stacks (async) or a stack start/stop
(blocking).

A `RunJob` owns a thread with its own event loop, so `execute()` keeps going while the
page polls `snapshot()` from a `gr.Timer`; `cancel()` cancels the run's task from any
thread, and the runner marks the stored run `cancelled` (resumable). A `StackJob` runs one
blocking launcher call. Job objects live in each session's `gr.State`, never in globals.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.records.responses import ResponseRecord
from workbench.runner.run import RunProgress
from workbench.runner.session import PreparedRun, execute
from workbench.store.db import Store
from workbench.store.progress import RunState, run_state
from workbench.web.common import WebConfig, open_store


@dataclass(frozen=True)
class RunSnapshot:
    """What the Run tab shows at one tick; every count is keyed by stack name."""

    state: str
    run_id: str | None
    #: The run's stacks in run order (empty until the run is recorded).
    stacks: list[str]
    baseline: str | None
    done: dict[str, int]
    total: dict[str, int]
    errors: dict[str, int]
    mean_e2e_s: dict[str, float | None]
    messages: list[str]
    error: str | None
    elapsed_s: float
    #: Stack -> the latest failed answer's message in this session.
    last_error: dict[str, str] = field(default_factory=dict)
    #: The stored progress of the whole run (answered / planned per stack), once recorded.
    live: RunState | None = None

    @property
    def finished(self) -> bool:
        """The job's thread has nothing left to do."""
        return self.state in ("completed", "cancelled", "failed")


@dataclass
class _Counts:
    e2e_sum: dict[str, float] = field(default_factory=dict)
    e2e_n: dict[str, int] = field(default_factory=dict)
    last_error: dict[str, str] = field(default_factory=dict)
    progress: RunProgress | None = None


class RunJob:
    """A run (new or resumed) executing in a background thread."""

    def __init__(self, cfg: WebConfig, prepare: Callable[[Store], PreparedRun],
                 stacks: list[str] | None = None, baseline: str | None = None) -> None:
        """`prepare(store)` returns a `PreparedRun` (`create_run` or `reopen_run`);
        `stacks` and `baseline` name the run's stacks while it is being prepared."""
        self._cfg = cfg
        self._prepare = prepare
        self._lock = threading.Lock()
        self._counts = _Counts()
        self._state = "starting"
        self._run_id: str | None = None
        self._stacks: list[str] = list(stacks or [])
        self._baseline: str | None = baseline
        self._messages: list[str] = []
        self._error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancel_requested = False
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._main, name="workbench-run", daemon=True)

    def start(self) -> RunJob:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread (tests and shutdown)."""
        self._thread.join(timeout)

    def _on_result(self, rec: ResponseRecord, progress: RunProgress) -> None:
        with self._lock:
            self._counts.progress = progress
            c = self._counts
            if rec.status == "ok":
                c.e2e_sum[rec.stack] = c.e2e_sum.get(rec.stack, 0.0) + rec.e2e_s
                c.e2e_n[rec.stack] = c.e2e_n.get(rec.stack, 0) + 1
            else:
                c.last_error[rec.stack] = rec.error or rec.status

    def _on_status(self, message: str) -> None:
        with self._lock:
            self._messages.append(message)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        with open_store(self._cfg) as store:
            try:
                prepared = self._prepare(store)
                with self._lock:
                    self._run_id = prepared.run_id
                    self._stacks = list(prepared.stacks)
                    self._baseline = prepared.baseline
                    self._counts.progress = RunProgress.for_stacks(self._stacks)
                    if self._cancel_requested:
                        raise asyncio.CancelledError
                    self._state = "running"
                    self._loop = loop
                    self._task = loop.create_task(
                        execute(store, prepared, self._on_result, self._on_status))
                progress = loop.run_until_complete(self._task)
                with self._lock:
                    self._counts.progress = progress
                    self._state = "completed"
            except asyncio.CancelledError:
                self._mark_cancelled(store)
            except Exception as exc:  # shown in the tab; the stored run says `failed`
                with self._lock:
                    self._state, self._error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                loop.close()

    def _mark_cancelled(self, store: Store) -> None:
        # Cancelled while indexing: the runner had not started, so the run still says
        # `running`; mark it cancelled so the tab offers to resume it.
        if self._run_id is not None and store.get_run(self._run_id)["status"] == "running":
            store.set_status(self._run_id, "cancelled")
        with self._lock:
            self._state = "cancelled"

    def cancel(self) -> None:
        """Stop asking; what was answered stays stored and the run can be resumed."""
        with self._lock:
            self._cancel_requested = True
            if self._loop is not None and self._task is not None and not self._task.done():
                self._loop.call_soon_threadsafe(self._task.cancel)

    def _live(self, run_id: str | None) -> RunState | None:
        if run_id is None:
            return None
        try:
            # Read-only: a read-write open writes (its migration check) and would queue
            # behind the runner's writes.
            with Store(self._cfg.db_path, readonly=True) as store:
                return run_state(store, run_id)
        except Exception:  # a locked or damaged store: the session's own counts remain
            return None

    def snapshot(self) -> RunSnapshot:
        """Counts so far, per stack, with the running mean E2E of successful requests and
        the run's stored progress (read outside the lock: it opens the store)."""
        with self._lock:
            run_id = self._run_id
        live = self._live(run_id)
        with self._lock:
            p = self._counts.progress
            return RunSnapshot(
                state=self._state, run_id=self._run_id, stacks=list(self._stacks),
                baseline=self._baseline,
                done=dict(p.per_stack_done) if p else {},
                total=dict(p.per_stack_total) if p else {},
                errors=dict(p.errors) if p else {},
                mean_e2e_s={s: self._counts.e2e_sum[s] / n
                            for s, n in self._counts.e2e_n.items() if n},
                messages=list(self._messages), error=self._error,
                elapsed_s=time.monotonic() - self._started,
                last_error=dict(self._counts.last_error), live=live,
            )


class StackJob:
    """One blocking launcher call (start or stop a stack) in a background thread."""

    def __init__(self, label: str, fn: Callable[[], str]) -> None:
        """`fn` does the work and returns a message for the page."""
        self.label = label
        self._fn = fn
        self.result: str | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._main, name="workbench-stack", daemon=True)

    def _main(self) -> None:
        try:
            self.result = self._fn()
        except Exception as exc:  # e.g. LaunchError with the log's last lines
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self) -> StackJob:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread."""
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Still working."""
        return self._thread.is_alive()
