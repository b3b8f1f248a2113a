"""The arena's engine room: one question streamed from two stacks at once.

Each side's `RagServiceClient.stream` runs in its own asyncio task and pushes its events
into one queue; the consumer folds them into two `Pane`s and yields both after every
event, so the page shows each answer growing as its tokens arrive, whichever side is
faster. Timings are taken on the client's monotonic clock like the runner's (TTFT = first
non-empty token event - request start).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from workbench.runner.client import StreamEvent


class EventSource(Protocol):
    """What the arena needs from a stack client: `RagServiceClient.stream`."""

    def stream(self, question: str, space_id: str,
               top_k: int | None = None) -> AsyncIterator[StreamEvent]:
        """Yield `sources`, `token`*, then `done` or `error`."""
        ...


@dataclass(frozen=True)
class Passage:
    """One retrieved passage as the arena shows it."""

    doc_id: str
    chunk_id: str
    score: float | None
    text: str


@dataclass(frozen=True)
class Pane:
    """One side's answer so far, with what it retrieved and how fast it came."""

    stack: str
    started: float
    text: str = ""
    passages: tuple[Passage, ...] = ()
    first_token_at: float | None = None
    last_token_at: float | None = None
    finished_at: float | None = None
    token_events: int = 0
    completion_tokens: int | None = None
    error: str | None = None
    model: str = ""

    @property
    def finished(self) -> bool:
        """The stream ended (answer complete, or failed)."""
        return self.finished_at is not None

    @property
    def ttft_s(self) -> float | None:
        """Time to first token (s)."""
        return None if self.first_token_at is None else self.first_token_at - self.started

    @property
    def total_s(self) -> float | None:
        """End to end: last token (else the end of the stream) - request start."""
        end = self.last_token_at or self.finished_at
        return None if end is None else end - self.started

    @property
    def tokens(self) -> int:
        """Completion tokens as the server reports them, else the token events counted."""
        return self.completion_tokens if self.completion_tokens is not None else self.token_events

    @property
    def tokens_per_s(self) -> float | None:
        """Decode speed a user sees once the answer starts: N / (E2E - TTFT)."""
        ttft, total = self.ttft_s, self.total_s
        if ttft is None or total is None or total <= ttft or self.tokens < 2:
            return None
        return self.tokens / (total - ttft)


@dataclass
class _Feed:
    """Events of both sides, in arrival order; None marks a side's end."""

    queue: asyncio.Queue[tuple[str, StreamEvent | BaseException | None]] = field(
        default_factory=asyncio.Queue)


def _passages(raw: Any) -> tuple[Passage, ...]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            score = item.get("score")
            out.append(Passage(
                doc_id=str(item.get("doc_id", "")), chunk_id=str(item.get("chunk_id", "")),
                score=float(score) if isinstance(score, int | float) else None,
                text=str(item.get("text", "")),
            ))
    return tuple(out)


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
        err = ev.data.get("error", ev.data)
        msg = (f"{err.get('type', 'error')}: {err.get('message', err)}"
               if isinstance(err, dict) else str(err))
        return replace(pane, finished_at=ev.at, error=msg)
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
    panes = {side: Pane(stack=stacks[side], started=started) for side in sources}
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
