"""`ExternalClient`: an existing RAG backend (the seed FastAPI shape by default) driven as a
stack, with the request and response fields the recipe maps.

- Streamed when the recipe says the backend streams (`external.stream`): server-sent events
  read by the one SSE decoder (`workbench.rag.stream.sse_events`) and folded by the one
  answer fold (`AnswerStream`), so TTFT is the first non-empty token at the client, as for
  our own service. Three event shapes are understood: named events (`event: token`,
  `sources`, `done`, `error`, ours), a `type` field in the data (`{"type": "token", ...}`,
  the seed's style) and OpenAI chat chunks (`choices[0].delta.content`, `[DONE]`).
  Otherwise one `POST`, whose E2E is all that is known (the report says so).
- The backend's own timing headers (`X-Process-Time`, `Server-Timing`) are kept in the
  record's `server_timings`, in ms.
- An HTTP-200 answer that starts with an error marker (`[vLLM error: ...]`,
  `[LLM ошибка: ...]`; any letter case; the recipe adds its own) is stored as an error.
- Doc ids lose the backend's random suffix (`<stem>_<8 hex>`) to match gold passage ids.
Every failure names the backend's URL.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from workbench.rag.stream import (
    AnswerStream,
    StreamEvent,
    error_message,
    parse_sources,
    sse_events,
)
from workbench.records.responses import Status
from workbench.runner.stack_client import CONNECT_ERRORS, Answer
from workbench.stacks.recipe import DEFAULT_ERROR_MARKERS, ExternalAPI, Stack

_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµ]*)\s*$")
_KINDS = {"token": "token", "delta": "token", "chunk": "token", "content": "token",
          "sources": "sources", "context": "sources", "retrieval": "sources",
          "done": "done", "end": "done", "final": "done", "complete": "done",
          "answer": "done", "error": "error"}


class MalformedStream(ValueError):
    """An event of the backend's stream is not what any known shape sends."""


def error_marker(answer: str, extra: list[str] | tuple[str, ...] = ()) -> str | None:
    """The marker `answer` starts with (built-in or `extra`), in any letter case; None when
    it is an ordinary answer."""
    head = answer.lstrip().casefold()
    return next((m for m in (*DEFAULT_ERROR_MARKERS, *extra)
                 if m and head.startswith(m.casefold())), None)


def _ms(value: str, name: str) -> float | None:
    # Bare numbers are seconds (Starlette's documented middleware and the seed backend
    # write `f"{elapsed:.3f}"`), unless the header's name says ms (`X-Process-Time-Ms`).
    m = _NUMBER.match(value)
    if m is None:
        return None
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit in ("ms",) or (not unit and name.lower().endswith("-ms")):
        return number
    if unit in ("us", "µs"):
        return number / 1000.0
    if unit in ("", "s", "sec"):
        return number * 1000.0
    return None


def header_timings(headers: Mapping[str, str], names: list[str]) -> dict[str, float | None]:
    """The backend's timing headers as ms: `X-Process-Time: 0.412` -> `x_process_time_ms:
    412.0`; `Server-Timing: llm;dur=380.1, db;dur=4` -> `server_timing_llm_ms: 380.1`, ..."""
    out: dict[str, float | None] = {}
    for name in names:
        raw = headers.get(name)
        if raw is None:
            continue
        key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_").removesuffix("_ms")
        if name.lower() == "server-timing":
            for metric in raw.split(","):
                label, _, params = metric.strip().partition(";")
                dur = re.search(r"(?:^|;)\s*dur=([0-9.]+)", params)
                if label and dur:
                    out[f"{key}_{re.sub(r'[^a-z0-9]+', '_', label.lower())}_ms"] = float(
                        dur.group(1))
        else:
            out[f"{key}_ms"] = _ms(raw, name)
    return out


def sent_space_id(stack: Stack, space_id: str) -> str | None:
    """The space id asking `stack` sends: its recipe's `external.space_id`, else the eval
    set's; None when the backend's request has no space field."""
    api = stack.external
    if api is None:
        return space_id
    if "space_id" not in api.request_map:
        return None
    return api.space_id or space_id


def _text(obj: Mapping[str, Any]) -> str:
    for key in ("text", "token", "delta", "content"):
        value = obj.get(key)
        if isinstance(value, str):
            return value
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta") or choices[0].get("message") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        return content if isinstance(content, str) else ""
    return ""


def normalise(event: str, data: str, at: float, api: ExternalAPI, url: str
              ) -> StreamEvent | None:
    """One backend event in our service's event shapes (`token` {text}, `sources`
    {sources}, `done` {answer, model, sources}, `error` {error}); None for one to skip.

    Raises MalformedStream (naming the URL) for data no known shape sends."""
    if data.strip() == "[DONE]":
        return StreamEvent("end", {}, at)
    try:
        obj = json.loads(data)
    except ValueError:
        raise MalformedStream(f"malformed SSE event from {url}: data is not JSON: "
                              f"{data[:120]!r}") from None
    if not isinstance(obj, dict):
        raise MalformedStream(f"malformed SSE event from {url}: {data[:120]!r}")
    named = event if event != "message" else str(obj.get("type") or obj.get("event") or "")
    kind = _KINDS.get(named.lower())
    if kind is None:
        if "choices" in obj:
            kind = "token"
        elif api.response_map.get("answer", "answer") in obj:
            kind = "done"
        elif _text(obj):
            kind = "token"
        else:
            return None  # progress and other events a client may ignore
    rmap = api.response_map
    if kind == "token":
        return StreamEvent("token", {"text": _text(obj)}, at)
    if kind == "sources":
        raw = obj.get(rmap.get("sources", "sources"), obj.get("results"))
        return StreamEvent("sources", {"sources": raw}, at)
    if kind == "error":
        message = obj.get("message") or obj.get("error") or obj.get("detail") or data
        if isinstance(message, dict):
            message = message.get("message", message)
        return StreamEvent("error", {"error": {"type": "backend_error",
                                               "message": f"{message} ({url})"}}, at)
    answer = obj.get(rmap.get("answer", "answer"))
    done: dict[str, Any] = {"model": obj.get(rmap.get("model", "model"), "")}
    if isinstance(answer, str):
        done["answer"] = answer
    if rmap.get("sources", "sources") in obj:
        done["sources"] = obj[rmap.get("sources", "sources")]
    return StreamEvent("done", done, at)


async def _stamped(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[float, bytes]]:
    async for chunk in chunks:
        yield time.perf_counter(), chunk


class ExternalClient:
    """An existing RAG backend of the seed shape, streamed when its recipe says it streams."""

    #: An external backend keeps its own index, which has no key we could know.
    index_key: str | None = None

    def __init__(self, stack: Stack, *, timeout_s: float = 120.0,
                 headers: dict[str, str] | None = None) -> None:
        if stack.external is None:
            raise ValueError(f"stack {stack.name} has no `external` section")
        self.stack = stack
        self.api = stack.external
        self.timeout_s = timeout_s
        self.url = self.api.url.rstrip("/")
        self._suffix = re.compile(self.api.doc_id_suffix)
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=httpx.Timeout(timeout_s, connect=5.0),
            headers=headers or {},
        )

    async def prepare(self, space_id: str, passages: list[dict[str, Any]]) -> str:
        """An external backend indexes its own documents; check it is reachable."""
        resp = await self._http.get(self.api.health_path)
        if resp.status_code >= 400:
            raise RuntimeError(f"{self.stack.name}: health check {self.url}"
                               f"{self.api.health_path}: HTTP {resp.status_code}")
        how = "streamed" if self.api.stream else "not streamed: only E2E is known"
        return (f"external backend at {self.url} (its own index, not re-indexed; space id "
                f"{sent_space_id(self.stack, space_id)!r}; {how})")

    def _body(self, question: str, space_id: str) -> dict[str, Any]:
        req = self.api.request_map
        body: dict[str, Any] = {req.get("question", "q"): question}
        space = sent_space_id(self.stack, space_id)
        if space is not None:
            body[req["space_id"]] = space
        if "top_k" in req:
            body[req["top_k"]] = self.stack.retrieval.top_k
        return body

    async def ask(self, question: str, space_id: str) -> Answer:
        """Ask once; never raises for a failed request, except a refused connection (the
        runner retries those)."""
        stream = AnswerStream()
        path = self.api.stream_path if self.api.stream else self.api.ask_path
        where = f"{self.url}{path}"
        raw_sources: object = None
        timings: dict[str, float | None] = {}
        model = ""
        try:
            async with asyncio.timeout(self.timeout_s):
                headers = {"Accept": "text/event-stream"} if self.api.stream else {}
                async with self._http.stream("POST", path, json=self._body(question, space_id),
                                             headers=headers) as resp:
                    timings = header_timings(resp.headers, self.api.timing_headers)
                    if resp.status_code != 200:
                        body = await resp.aread()
                        kind = "engine_timeout" if resp.status_code == 504 else "http_error"
                        stream.add(StreamEvent("error", {"http_status": resp.status_code,
                                                         "error": {"type": kind, "message": (
                                                             f"HTTP {resp.status_code} from "
                                                             f"{where}: {error_message(body)}")}},
                                               time.perf_counter()))
                    elif "text/event-stream" in resp.headers.get("content-type", ""):
                        raw_sources, model = await self._read_stream(resp, stream, where)
                    else:
                        raw_sources, model = self._read_json(await resp.aread(), stream, where)
        except TimeoutError:
            stream.fail("timeout", f"no complete answer from {where} within "
                                   f"{self.timeout_s:g}s")
        except CONNECT_ERRORS:
            raise
        except MalformedStream as exc:
            stream.fail("error", str(exc))
        except (httpx.HTTPError, ValueError) as exc:
            # A reset connection says nothing (`ReadError('')`): say what it was.
            why = str(exc) or "the connection was closed or reset by the server"
            stream.fail("error", f"{type(exc).__name__} from {where}: {why}")
        stream.finish()
        answer = stream.answer
        marker = error_marker(answer, self.api.error_markers)
        if stream.status == "ok" and marker is not None:
            stream.fail("error", f"HTTP 200 with an error answer from {where}: {answer[:300]}")
        status: Status = stream.status
        rmap = self.api.response_map
        return Answer(
            status=status, timing=stream.timing(), answer=answer, error=stream.error,
            http_status=stream.http_status,
            sources=parse_sources(raw_sources, self._suffix,
                                  id_field=rmap.get("doc_id", "doc_id"),
                                  chunk_field=rmap.get("chunk_id", "chunk_index")),
            server_timings=timings, model=model, engine="external",
            completion_tokens=len(stream.token_times) or None,
        )

    async def _read_stream(self, resp: httpx.Response, stream: AnswerStream, where: str
                           ) -> tuple[object, str]:
        raw_sources: object = None
        async for sse in sse_events(_stamped(resp.aiter_bytes())):
            ev = normalise(sse.event, sse.data, sse.at, self.api, where)
            if ev is None:
                continue
            if ev.kind == "end":
                break
            stream.add(ev)
            if ev.kind == "sources":
                raw_sources = ev.data.get("sources")
            if stream.ended:
                break
        done = stream.done
        if done is None and stream.error is None and stream.pieces:
            # A stream of tokens that simply ends (or ends with `[DONE]`) is a whole answer.
            stream.add(StreamEvent("done", {"answer": "".join(stream.pieces)},
                                   stream.token_times[-1]))
            done = stream.done
        if done is not None and raw_sources is None:
            raw_sources = done.get("sources")
        return raw_sources, str((done or {}).get("model") or "")

    def _read_json(self, body: bytes, stream: AnswerStream, where: str) -> tuple[object, str]:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise MalformedStream(f"malformed JSON from {where}: {body[:120]!r}") from None
        if not isinstance(parsed, dict):
            raise MalformedStream(f"malformed JSON from {where}: not an object: "
                                  f"{body[:120]!r}")
        rmap = self.api.response_map
        answer = parsed.get(rmap.get("answer", "answer"))
        if not isinstance(answer, str):
            raise MalformedStream(f"answer from {where} has no {rmap.get('answer', 'answer')!r}"
                                  f" text: {body[:120]!r}")
        stream.add(StreamEvent("done", {"answer": answer}, time.perf_counter()))
        return (parsed.get(rmap.get("sources", "sources")) or [],
                str(parsed.get(rmap.get("model", "model"), "") or ""))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()
