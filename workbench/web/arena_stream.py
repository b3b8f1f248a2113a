"""The arena's engine room: one question streamed from two stacks at once.

Each side's `RagServiceClient.stream` runs in its own asyncio task and pushes its events
into one queue; the consumer folds them into two `Pane`s and yields both after every
event, so the page shows each answer growing as its tokens arrive, whichever side is
faster. Timings are taken on the client's monotonic clock like the runner's, and TTFT,
E2E and tok/s come from a `RequestTiming` (records/responses.py), so the arena's numbers are
the runner's and the load bench's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from workbench.rag.stream import StreamEvent, describe_error, parse_sources
from workbench.records.responses import RequestTiming, RetrievedSource
from workbench.store.db import utc_now


class EventSource(Protocol):
    """What the arena needs from a stack client: `RagServiceClient.stream`."""

    def stream(self, question: str, space_id: str,
               top_k: int | None = None) -> AsyncIterator[StreamEvent]:
        """Yield `sources`, `token`*, then `done` or `error`."""
        ...


@dataclass(frozen=True)
class Pane:
    """One side's answer so far, with what it retrieved and how fast it came."""

    stack: str
    started: float
    text: str = ""
    passages: tuple[RetrievedSource, ...] = ()  # what the stack retrieved
    first_token_at: float | None = None
    last_token_at: float | None = None
    finished_at: float | None = None
    token_events: int = 0
    completion_tokens: int | None = None
    error: str | None = None
    model: str = ""
    started_at_utc: str = ""

    @property
    def finished(self) -> bool:
        """The stream ended (answer complete, or failed)."""
        return self.finished_at is not None

    @property
    def timing(self) -> RequestTiming | None:
        """The pane's timestamps as the runner keeps them (None before anything arrived):
        every latency below is derived by `RequestTiming`, the one place it is defined."""
        end = self.finished_at or self.last_token_at
        if end is None:
            return None
        return RequestTiming(request_start=self.started, first_token=self.first_token_at,
                             last_token=self.last_token_at, request_end=end,
                             started_at_utc=self.started_at_utc)

    @property
    def ttft_s(self) -> float | None:
        """Time to first token (s): `RequestTiming.ttft_s`."""
        timing = self.timing
        return None if timing is None else timing.ttft_s()

    @property
    def total_s(self) -> float | None:
        """End to end (s): `RequestTiming.e2e_s` (last token, else the end of the stream)."""
        timing = self.timing
        return None if timing is None else timing.e2e_s()

    @property
    def tokens(self) -> int:
        """Completion tokens as the server reports them, else the token events counted."""
        return self.completion_tokens if self.completion_tokens is not None else self.token_events

    @property
    def tokens_per_s(self) -> float | None:
        """Decode speed a user sees once the answer starts: `RequestTiming.output_rate`,
        N / (E2E - TTFT)."""
        timing = self.timing
        return None if timing is None else timing.output_rate(self.tokens)


@dataclass
class _Feed:
    """Events of both sides, in arrival order; None marks a side's end."""

    queue: asyncio.Queue[tuple[str, StreamEvent | BaseException | None]] = field(
        default_factory=asyncio.Queue)


def _passages(raw: Any) -> tuple[RetrievedSource, ...]:
    # The one source parser (`workbench.rag.stream`), as the runner reads the same list.
    return tuple(parse_sources(raw))


def apply_event(pane: Pane, ev: StreamEvent) -> Pane:
    """The pane after one stream event."""
    if ev.kind == "sources":
        return replace(pane, passages=_passages(ev.data.get("sources")))
    if ev.kind == "token":
        text = str(ev.data.get("text", ""))
        if not text:
            return pane
        return replace(pane, text=pane.text + text, token_events=pane.token_events + 1,
                       first_token_at=pane.first_token_at or ev.at, last_token_at=ev.at)
    if ev.kind == "done":
        usage = ev.data.get("usage") or {}
        n = usage.get("completion_tokens") if isinstance(usage, dict) else None
        answer = ev.data.get("answer")
        return replace(
            pane, finished_at=ev.at, completion_tokens=n if isinstance(n, int) else None,
            text=str(answer) if isinstance(answer, str) and answer else pane.text,
            passages=pane.passages or _passages(ev.data.get("sources")),
            model=str(ev.data.get("model", "")),
        )
    if ev.kind == "error":
        return replace(pane, finished_at=ev.at, error=describe_error(ev.data)[1])
    return pane


async def _pump(side: str, source: EventSource, question: str, space_id: str,
                feed: _Feed) -> None:
    try:
        async for ev in source.stream(question, space_id):
            await feed.queue.put((side, ev))
        await feed.queue.put((side, None))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # one side failing must not stop the other side's stream
        await feed.queue.put((side, exc))


async def stream_pair(sources: Mapping[str, EventSource], stacks: Mapping[str, str],
                      question: str, space_id: str, *, timeout_s: float = 300.0,
                      min_interval_s: float = 0.05) -> AsyncIterator[dict[str, Pane]]:
    """Ask both sides at once; yield both panes as events arrive (at most every
    `min_interval_s`, so a fast engine does not flood the browser), and once at the end."""
    started = time.perf_counter()
    panes = {side: Pane(stack=stacks[side], started=started, started_at_utc=utc_now())
             for side in sources}
    feed = _Feed()
    tasks = [asyncio.create_task(_pump(side, src, question, space_id, feed))
             for side, src in sources.items()]
    open_sides = set(sources)
    last_yield = 0.0
    try:
        async with asyncio.timeout(timeout_s):
            while open_sides:
                side, item = await feed.queue.get()
                now = time.perf_counter()
                if item is None:
                    open_sides.discard(side)
                    if not panes[side].finished:
                        panes[side] = replace(panes[side], finished_at=now,
                                              error=panes[side].error or "stream ended early")
                elif isinstance(item, BaseException):
                    open_sides.discard(side)
                    panes[side] = replace(panes[side], finished_at=now,
                                          error=f"{type(item).__name__}: {item}")
                else:
                    panes[side] = apply_event(panes[side], item)
                if now - last_yield >= min_interval_s or panes[side].finished:
                    last_yield = now
                    yield dict(panes)
    except TimeoutError:
        now = time.perf_counter()
        for side in open_sides:
            panes[side] = replace(panes[side], finished_at=now,
                                  error=f"no complete answer within {timeout_s:g}s")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    yield dict(panes)
