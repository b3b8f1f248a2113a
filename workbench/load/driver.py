"""Run one load point: send requests on their schedule, at most `concurrency` at once.

One event loop, one dispatcher: it sleeps until each request is due, takes a concurrency
slot (if there is a limit), and starts the request as a task. The loop is bounded by the
request count and by `max_seconds`; requests still in flight at the deadline get the
target's own timeout, so a point always ends by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.load.arrivals import arrival_offsets
from workbench.load.client import LoadTarget, Outcome
from workbench.load.prompts import LoadPrompt
from workbench.records.responses import LoadRequestRecord, PointSpec


@dataclass
class PointRun:
    """The requests of one point and its measured span on the perf_counter clock."""

    spec: PointSpec
    records: list[LoadRequestRecord]
    started: float
    finished: float
    stopped_early: bool = False
    lags: list[float] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """First due time to the last request's end (vLLM's benchmark duration)."""
        return self.finished - self.started


def _record(
    index: int, prompt: LoadPrompt, due: float, ready: float, out: Outcome
) -> LoadRequestRecord:
    return LoadRequestRecord(
        index=index, prompt_id=prompt.id, due=due, ready=ready, status=out.status,
        error=out.error, http_status=out.http_status, timing=out.timing,
        prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens,
        tokens_from=out.tokens_from,  # type: ignore[arg-type]
        answer=out.answer,
        correct=prompt.grade(out.answer, ok=out.status == "ok"),
    )


#: The event loop's timers wake up to ~1 ms late (epoll's millisecond timeout); the last
#: stretch before a due time is spent yielding instead, so sends are not late by that.
_SPIN_S = 0.0015


async def _sleep_until(due: float) -> None:
    delay = due - time.perf_counter() - _SPIN_S
    if delay > 0:
        await asyncio.sleep(delay)
    while time.perf_counter() < due:
        await asyncio.sleep(0)  # other requests' callbacks still run meanwhile


async def run_point(
    target: LoadTarget,
    prompts: list[LoadPrompt],
    spec: PointSpec,
    *,
    on_record: Callable[[LoadRequestRecord], None] | None = None,
) -> PointRun:
    """Send `spec.requests` prompts (cycling through `prompts`) to `target`."""
    if not prompts:
        raise ValueError("no prompts to send")
    offsets = arrival_offsets(spec.requests, spec.rate, spec.burstiness, spec.seed)
    # Free concurrency slots, each holding the time it became free: a request waiting for a
    # slot is "ready" when its slot frees up, so its send lag counts only the client's delay.
    slots: asyncio.Queue[float] | None = asyncio.Queue() if spec.concurrency else None
    records: list[LoadRequestRecord] = []
    lags: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, prompt: LoadPrompt, due: float, ready: float) -> None:
        try:
            out = await target.send(prompt)
        finally:
            if slots is not None:
                slots.put_nowait(time.perf_counter())
        rec = _record(index, prompt, due, ready, out)
        records.append(rec)
        lags.append(rec.send_lag_s)
        if on_record is not None:
            on_record(rec)

    # A small lead so the first request is not late by the cost of setting up the loop.
    started = time.perf_counter() + 0.005
    deadline = started + spec.max_seconds
    for _ in range(spec.concurrency or 0):
        assert slots is not None
        slots.put_nowait(started)
    stopped_early = False
    try:
        for index, offset in enumerate(offsets):
            due = started + offset
            if due > deadline:
                stopped_early = True
                break
            await _sleep_until(due)
            ready = due if slots is None else max(due, await slots.get())
            task = asyncio.create_task(one(index, prompts[index % len(prompts)], due, ready))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    except BaseException:
        # Cancelled (Ctrl-C) or a request crashed the client: stop every request still in
        # flight and wait for them, so none outlives the point; the caller keeps what
        # finished (`on_record` saw each).
        pending = list(tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise
    finished = max((r.timing.request_end for r in records), default=time.perf_counter())
    records.sort(key=lambda r: r.index)
    return PointRun(spec=spec, records=records, started=started, finished=finished,
                    stopped_early=stopped_early, lags=lags)
