"""The runner: the same questions to every stack of a run (2-8), every result stored as it
arrives.

Schedules (docs/architecture.md, "Measuring honestly"):
- `interleaved` (default): one stack at a time, question by question, the order of all the
  stacks rotated for each question (s1,s2,s3 then s2,s3,s1 ...), so drift of the machine
  hits every stack alike and none is always first after a cold pause;
- `sequential`: all of the first stack, then all of the next, ...;
- `parallel`: every stack at once; they disturb each other's timings, and the manifest
  says so.
`concurrency` is the number of requests in flight to the stack being measured.
Warm-up requests are sent first and not stored. Only connection failures are retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from workbench.records.evalset import EvalSet, Question
from workbench.records.responses import RequestTiming, ResponseRecord
from workbench.runner.stack_client import CONNECT_ERRORS, Answer, StackClient
from workbench.store.db import Store, StoreError

Schedule = Literal["interleaved", "sequential", "parallel"]
SCHEDULES: tuple[str, ...] = ("interleaved", "sequential", "parallel")


class RunError(RuntimeError):
    """The run cannot start or go on (a stack unreachable, indexing failed, ...)."""


@dataclass
class RunOptions:
    """How to send the questions."""

    schedule: Schedule = "interleaved"
    concurrency: int = 1
    timeout_s: float = 120.0
    warmup: int = 1
    #: Retries of a refused connection, backing off 0.5 s, 1 s, 2 s, ... (31.5 s for 6).
    #: A RAG service restarted mid-run takes 5-20 s to import and bind again on a small
    #: machine (measured by `python -m workbench.chaos`), which 3 retries (3.5 s) did not
    #: cover; after a stack has used up its retries once, its later requests try once only
    #: until one gets through, so a stack that is really down does not cost 31.5 s each.
    connect_retries: int = 6
    retry_failed: bool = False


@dataclass
class RunProgress:
    """Counts so far, per stack name (what a progress bar or a UI shows)."""

    total: int
    done: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    per_stack_done: dict[str, int] = field(default_factory=dict)
    per_stack_total: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_stacks(cls, stacks: Sequence[str], total: int = 0) -> RunProgress:
        """Zero counts for each stack."""
        return cls(total=total, errors=dict.fromkeys(stacks, 0),
                   per_stack_done=dict.fromkeys(stacks, 0),
                   per_stack_total=dict.fromkeys(stacks, 0))


ProgressCallback = Callable[[ResponseRecord, RunProgress], None]
Pair = tuple[Question, str]


def plan(questions: Sequence[Question], todo: set[tuple[str, str]], schedule: Schedule,
         concurrency: int, stacks: Sequence[str]) -> list[list[Pair]]:
    """Phases of (question, stack) pairs; a phase's pairs may run concurrently.

    Within a phase of `interleaved` and `sequential` schedules only one stack appears, so
    one stack is measured at a time. `interleaved` rotates the stacks' order by one for
    each batch of `concurrency` questions.
    """
    pairs = [(q, s) for q in questions for s in stacks if (q.id, s) in todo]
    if schedule == "parallel":
        return [pairs] if pairs else []
    if schedule == "sequential":
        return [p for p in ([x for x in pairs if x[1] == s] for s in stacks) if p]
    phases: list[list[Pair]] = []
    n = len(stacks)
    for start in range(0, len(questions), concurrency):
        batch = questions[start:start + concurrency]
        shift = (start // concurrency) % n
        for stack in [*stacks[shift:], *stacks[:shift]]:
            phase = [(q, stack) for q in batch if (q.id, stack) in todo]
            if phase:
                phases.append(phase)
    return phases


class Runner:
    """Runs (or resumes) one stored run against its stacks' clients (keyed by stack name,
    in run order)."""

    def __init__(self, store: Store, run_id: str, clients: dict[str, StackClient],
                 space_id: str, options: RunOptions,
                 on_result: ProgressCallback | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.clients = clients
        self.stacks = list(clients)
        self.space_id = space_id
        self.options = options
        self.on_result = on_result
        self._write_lock = asyncio.Lock()
        #: Stacks whose retries ran out: they get one try per request until one connects.
        self._unreachable: set[str] = set()
        #: The counts of the current (or last) `run`.
        self.progress = RunProgress.for_stacks(self.stacks)
        #: Called once the warm-up is over, before the first measured request (the
        #: engines' counters are read there, so warm-up requests are not counted).
        self.after_warmup: Callable[[], None] | None = None
        #: Called around every phase with the stacks it asks (and, after, how many pairs it
        #: asked): the idle stacks' CPU is metered there (workbench.host.idle).
        self.before_phase: Callable[[set[str]], None] | None = None
        self.after_phase: Callable[[set[str], int], None] | None = None

    def pending(self, questions: Sequence[Question]) -> tuple[set[tuple[str, str]], dict[
            tuple[str, str], int]]:
        """Pairs still to ask (never answered, or failed when retrying) and their attempt."""
        answered = self.store.answered(self.run_id)
        todo: set[tuple[str, str]] = set()
        attempts: dict[tuple[str, str], int] = {}
        for q in questions:
            for name in self.stacks:
                prev = answered.get((q.id, name))
                if prev is None:
                    todo.add((q.id, name))
                    attempts[(q.id, name)] = 1
                elif self.options.retry_failed and prev[1] != "ok":
                    todo.add((q.id, name))
                    attempts[(q.id, name)] = prev[0] + 1
        return todo, attempts

    async def warm_up(self, questions: Sequence[Question]) -> None:
        """Unstored requests that load caches and kernels before anything is measured."""
        if not questions:
            return
        for name in self.stacks:
            for i in range(self.options.warmup):
                q = questions[i % len(questions)]
                try:
                    await self.clients[name].ask(q.question, self.space_id)
                except CONNECT_ERRORS as exc:
                    stack = self.clients[name].stack
                    raise RunError(
                        f"stack {stack.name} is not reachable at {stack.rag_url}: "
                        f"{exc}. Start it with `workbench up` (or `make up`)."
                    ) from exc

    async def _ask(self, q: Question, name: str) -> Answer:
        delay = 0.5
        retries = 0 if name in self._unreachable else self.options.connect_retries
        for attempt in range(retries + 1):
            try:
                answer = await self.clients[name].ask(q.question, self.space_id)
                self._unreachable.discard(name)
                return answer
            except CONNECT_ERRORS as exc:
                if attempt == retries:
                    self._unreachable.add(name)
                    url = self.clients[name].stack.rag_url  # the stack and where it was
                    return Answer(
                        status="error", timing=_no_timing(),
                        error=f"connection to {url} failed: {type(exc).__name__}: {exc}",
                    )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def _one(self, q: Question, name: str, attempt: int, progress: RunProgress) -> None:
        ans = await self._ask(q, name)
        stack = self.clients[name].stack
        rec = ResponseRecord(
            run_id=self.run_id, question_id=q.id, stack=name, attempt=attempt,
            status=ans.status, error=ans.error, http_status=ans.http_status, answer=ans.answer,
            sources=ans.sources, timing=ans.timing, prompt_tokens=ans.prompt_tokens,
            completion_tokens=ans.completion_tokens, server_timings=ans.server_timings,
            model=ans.model or (stack.model.name if stack.model else ""),
            engine=ans.engine or stack.engine, engine_counters=ans.engine_counters,
        )
        async with self._write_lock:
            # Stored the moment it arrives: nothing answered is lost to a crash.
            self.store.add_response(rec)
            progress.done += 1
            progress.per_stack_done[name] += 1
            if rec.status != "ok":
                progress.errors[name] += 1
            if self.on_result is not None:
                self.on_result(rec, progress)

    async def run(self, questions: Sequence[Question]) -> RunProgress:
        """Ask every pending pair; marks the run completed (or cancelled on Ctrl-C)."""
        todo, attempts = self.pending(questions)
        progress = self.progress = RunProgress.for_stacks(self.stacks, total=len(todo))
        for _, name in todo:
            progress.per_stack_total[name] += 1
        self.store.set_status(self.run_id, "running")
        try:
            if todo:
                await self.warm_up(questions)
                if self.after_warmup is not None:
                    await asyncio.to_thread(self.after_warmup)
            for phase in plan(questions, todo, self.options.schedule, self.options.concurrency,
                              self.stacks):
                await self._run_phase(phase, attempts, progress)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.store.set_status(self.run_id, "cancelled")
            raise
        except Exception as exc:
            cause = _single(exc)  # a phase's TaskGroup wraps what a request raised
            stored = _find(exc, StoreError)
            if stored is not None:
                raise self._stopped(stored, progress) from stored
            self.store.set_status(self.run_id, "failed")
            if cause is not exc:
                raise cause from None
            raise
        self.store.set_status(self.run_id, "completed")
        return progress

    def _stopped(self, error: StoreError, progress: RunProgress) -> StoreError:
        """The run cannot store answers (database locked, disk full, ...): stop cleanly.

        Every answer stored so far stays; the one whose write failed was not stored, so
        `--resume` asks it again (attempt 1) and nothing is doubled. The status becomes
        `failed` (resumable) when the database takes that write, else it stays `running`,
        as after a crash; both resume the same way.
        """
        marked = self.store.try_set_status(self.run_id, "failed")
        state = "marked failed" if marked else "left as running: the status could not be written"
        return StoreError(
            f"{error}\nthe run stopped after storing {progress.done} answers in this session "
            f"(a request in flight was not stored); run {self.run_id} {state}"
        )

    async def _run_phase(self, phase: list[Pair], attempts: dict[tuple[str, str], int],
                         progress: RunProgress) -> None:
        limits = {s: asyncio.Semaphore(self.options.concurrency) for s in self.stacks}

        async def guarded(q: Question, name: str) -> None:
            async with limits[name]:
                await self._one(q, name, attempts[(q.id, name)], progress)

        active = {name for _, name in phase}
        if self.before_phase is not None:
            self.before_phase(active)
        async with asyncio.TaskGroup() as tg:
            for q, name in phase:
                tg.create_task(guarded(q, name))
        if self.after_phase is not None:
            self.after_phase(active, len(phase))


def _single(exc: BaseException) -> BaseException:
    """The one exception inside (nested) one-member exception groups, else `exc`."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _find(exc: BaseException, kind: type[StoreError]) -> StoreError | None:
    """The first `kind` in `exc` or in the exception groups it nests."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kind)
            if found is not None:
                return found
    return None


def _no_timing() -> RequestTiming:
    now = time.perf_counter()
    return RequestTiming(request_start=now, request_end=now,
                         started_at_utc=datetime.now(UTC).isoformat(timespec="milliseconds"))


def select_questions(evalset: EvalSet, limit: int | None) -> list[Question]:
    """The first `limit` questions, keeping unanswerable ones in proportion.

    A plain head of the file could hold no unanswerable question at all; taking both kinds
    in their file order keeps refusal scoring meaningful on short runs.
    """
    qs = evalset.questions
    if limit is None or limit >= len(qs):
        return list(qs)
    unans = [q for q in qs if not q.answerable]
    n_unans = round(limit * len(unans) / len(qs)) if unans else 0
    if unans and limit >= 4:
        n_unans = max(1, n_unans)
    keep = {q.id for q in [q for q in qs if q.answerable][: limit - n_unans] + unans[:n_unans]}
    return [q for q in qs if q.id in keep]
