"""The client side of the RAG service's answer stream (`POST /ask/stream`), for every client.

One SSE decoder, one reading of the service's events (`sources`, `token`*, `done` | `error`;
see `workbench.records.rag`) and one parser of source lists, shared by the runner's and the
arena's client (`workbench.runner.client`, over httpx) and the load bench's
(`workbench.load.client.RagTarget`, over raw asyncio streams).

Two transports stay, on purpose: the runner needs what httpx gives (TLS, remote hosts, the
service's bearer key), and the load generator needs its raw loopback client, which measured
here does several thousand streamed requests/s where httpx tops out near 200 (see
`workbench.load.http`): a load generator slower than the server measures itself. Both only
carry bytes: each hands `(arrival time, bytes)` pieces to `answer_events`, so an event is
stamped by the same rule on every path (when the network read that completed it arrived),
and TTFT means the same thing in a run, a load point and the arena.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workbench.records.responses import EngineCounters, RequestTiming, RetrievedSource, Status

#: Longest source text kept per source: a backend that returns whole documents as
#: "sources" must not make every stored record carry them.
MAX_SOURCE_TEXT = 4000


@dataclass
class SseEvent:
    """One server-sent event and when its last byte reached the client (perf_counter s)."""

    at: float
    event: str
    data: str


async def sse_events(pieces: AsyncIterable[tuple[float, bytes]]) -> AsyncIterator[SseEvent]:
    """Decode server-sent events (`event:`/`data:` lines, `\\r\\n` or `\\n` line ends) from
    body pieces stamped on arrival; an event carries the stamp of the piece that ended it."""
    buffer = b""
    async for at, piece in pieces:
        # Normalising the whole (small) buffer also joins a `\r` and `\n` split by a read.
        buffer = (buffer + piece).replace(b"\r\n", b"\n")
        while (end := buffer.find(b"\n\n")) >= 0:
            block, buffer = buffer[:end], buffer[end + 2 :]
            event, data = "message", []
            for line in block.decode("utf-8", "replace").split("\n"):
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line.startswith("event:"):
                    event = line[6:].strip()
            if data:
                yield SseEvent(at=at, event=event, data="\n".join(data))


@dataclass
class StreamEvent:
    """One event of the RAG service's answer stream, its JSON data decoded, stamped on
    arrival (perf_counter s)."""

    kind: str
    data: dict[str, Any]
    at: float


def error_message(body: bytes) -> str:
    """What an HTTP error body says: the service's `ErrorBody` message, FastAPI's `detail`,
    else the start of the body."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:500].decode("utf-8", "replace")
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return str(parsed["error"].get("message", parsed["error"]))
    if isinstance(parsed, dict) and "detail" in parsed:
        return json.dumps(parsed["detail"], ensure_ascii=False)[:500]
    return json.dumps(parsed, ensure_ascii=False)[:500]


async def answer_events(status: int, pieces: AsyncIterable[tuple[float, bytes]]
                        ) -> AsyncIterator[StreamEvent]:
    """The events of one `/ask/stream` response, given its HTTP status and body pieces.

    A non-200 response (the service refuses before streaming: 401, 422, 502, 504 for an
    engine timeout) becomes one `error` event whose data also holds `http_status`, so every
    client reports it as it reports an error inside the stream.
    """
    if status != 200:
        chunks = [piece async for _, piece in pieces]
        kind = "engine_timeout" if status == 504 else "http_error"
        yield StreamEvent("error", {"error": {"type": kind, "message": error_message(
            b"".join(chunks))}, "http_status": status}, time.perf_counter())
        return
    async for event in sse_events(pieces):
        yield StreamEvent(event.event, json.loads(event.data) if event.data else {}, event.at)


def describe_error(data: dict[str, Any]) -> tuple[Status, str]:
    """The status and message of an `error` event (an engine timeout is a timeout)."""
    err = data.get("error", data)
    if not isinstance(err, dict):
        return "error", str(err)
    status: Status = "timeout" if err.get("type") == "engine_timeout" else "error"
    return status, f"{err.get('type', 'error')}: {err.get('message', err)}"


def parse_sources(raw: object, suffix: re.Pattern[str] | None = None, *,
                  id_field: str = "doc_id", chunk_field: str = "chunk_id"
                  ) -> list[RetrievedSource]:
    """A source list as any RAG backend returns it, ranked in order (non-objects skipped).

    `suffix` strips a backend's random doc-id suffix so ids match gold passage ids (the raw
    id is kept); `id_field`/`chunk_field` name the fields of a backend with another shape.
    """
    out: list[RetrievedSource] = []
    for rank, item in enumerate(raw if isinstance(raw, list) else [], start=1):
        if not isinstance(item, dict):
            continue
        raw_id = str(item.get(id_field, ""))
        score = item.get("score")
        out.append(RetrievedSource(
            doc_id=suffix.sub("", raw_id) if suffix else raw_id, raw_doc_id=raw_id,
            chunk_id=str(item.get(chunk_field, "")), rank=rank,
            score=float(score) if isinstance(score, int | float) else None,
            text=str(item.get("text", ""))[:MAX_SOURCE_TEXT],
        ))
    return out


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class AnswerStream:
    """One streamed answer folded from its events: the single reading of the event sequence
    (TTFT is the first non-empty `token` event; `done` carries the whole answer and usage).

    Made just before the request is sent, so `start` is the request start of TTFT and E2E.
    """

    start: float = field(default_factory=time.perf_counter)
    started_at_utc: str = field(default_factory=_utc_now)
    token_times: list[float] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    sources_at: float | None = None
    done: dict[str, Any] | None = None
    status: Status = "ok"
    error: str | None = None
    http_status: int | None = None
    end: float | None = None
    _raw_sources: object = None

    def add(self, ev: StreamEvent) -> None:
        """Fold in one event (unknown kinds are ignored, as SSE clients must)."""
        if ev.kind == "token":
            text = str(ev.data.get("text", ""))
            if text:  # an empty piece is no token: it must not set TTFT
                self.token_times.append(ev.at)
                self.pieces.append(text)
        elif ev.kind == "sources":
            self.sources_at = ev.at
            self._raw_sources = ev.data.get("sources")
        elif ev.kind == "done":
            self.done = ev.data
        elif ev.kind == "error":
            self.http_status = int(ev.data.get("http_status", 200))
            self.status, self.error = describe_error(ev.data)
            return
        self.http_status = 200

    def fail(self, status: Status, error: str) -> None:
        """The request failed outside the stream (a timeout, a broken connection)."""
        self.status, self.error = status, error

    def finish(self) -> None:
        """The stream is over: stamp the request's end; no `done` and no error is an error."""
        self.end = time.perf_counter()
        if self.done is None and self.error is None:
            self.status, self.error = "error", "stream ended without a `done` event"

    @property
    def ended(self) -> bool:
        """`done` or `error` arrived (nothing more is expected)."""
        return self.done is not None or self.error is not None

    @property
    def answer(self) -> str:
        """The whole answer as `done` states it, else the pieces streamed so far."""
        if self.done is not None and "answer" in self.done:
            return str(self.done["answer"])
        return "".join(self.pieces)

    @property
    def sources(self) -> list[RetrievedSource]:
        """What was retrieved: the `sources` event's list, else `done`'s (parsed on demand,
        so the load generator, which never reads them, does not pay for it)."""
        raw = self._raw_sources
        if not raw and self.done is not None:
            raw = self.done.get("sources")
        return parse_sources(raw)

    @property
    def usage(self) -> dict[str, Any]:
        """`done`'s token usage (empty when there was none)."""
        usage = (self.done or {}).get("usage")
        return usage if isinstance(usage, dict) else {}

    @property
    def engine_counters(self) -> EngineCounters | None:
        """`done`'s engine counters (None when the engine reported none, or they are
        unreadable: a counter is never worth failing an answer for)."""
        raw = (self.done or {}).get("engine_counters")
        if not isinstance(raw, dict):
            return None
        try:
            return EngineCounters.model_validate(raw)
        except ValueError:
            return None

    def timing(self) -> RequestTiming:
        """The raw timestamps (`finish` must have been called)."""
        ts = self.token_times
        return RequestTiming(
            request_start=self.start, first_token=ts[0] if ts else None,
            last_token=ts[-1] if ts else None,
            request_end=self.end if self.end is not None else time.perf_counter(),
            token_times=ts, sources_at=self.sources_at, started_at_utc=self.started_at_utc,
        )
