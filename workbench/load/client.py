"""Load targets: send one prompt, time it on the client's monotonic clock.

`EngineTarget` speaks an OpenAI-compatible engine (`POST /v1/chat/completions`, streamed,
`stream_options.include_usage` so completion tokens are the server's count). `RagTarget`
speaks our RAG service (`POST /ask/stream`: `sources`, `token`*, `done` | `error`), read by
`workbench.rag.stream`, the same reader as the runner's. Both run on `LoopbackClient` (raw
asyncio HTTP) so the client is never the bottleneck.

Timing follows vLLM's definitions (docs/architecture.md "Measuring honestly"): the request
starts just before a connection is taken; a token time is recorded for every chunk that
carries content.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from workbench.load.http import Endpoint, LoopbackClient
from workbench.load.prompts import LoadPrompt
from workbench.rag.stream import AnswerStream, answer_events
from workbench.records.responses import RequestTiming, Status

_ANSWER_CHARS = 2000


@dataclass
class Outcome:
    """What one request did (the driver adds its schedule and makes a LoadRequestRecord)."""

    status: Status
    timing: RequestTiming
    error: str | None = None
    http_status: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_from: str = "none"
    answer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class LoadTarget(Protocol):
    """Something a load point can send prompts to."""

    name: str
    metrics_url: str | None

    async def send(self, prompt: LoadPrompt) -> Outcome:
        """Send one prompt; never raises for a failed request (the status says so)."""
        ...

    async def aclose(self) -> None:
        """Close connections."""
        ...


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Stream:
    """Collects a streamed answer's timestamps and pieces."""

    def __init__(self) -> None:
        self.start_utc = _utc_now()
        self.start = time.perf_counter()
        self.token_times: list[float] = []
        self.pieces: list[str] = []

    def token(self, at: float, text: str) -> None:
        if text:
            self.token_times.append(at)
            self.pieces.append(text)

    def outcome(self, status: Status, **kw: Any) -> Outcome:
        ts = self.token_times
        timing = RequestTiming(
            request_start=self.start, first_token=ts[0] if ts else None,
            last_token=ts[-1] if ts else None, request_end=time.perf_counter(),
            token_times=ts, started_at_utc=self.start_utc,
        )
        answer = "".join(self.pieces)[:_ANSWER_CHARS]
        completion = kw.pop("completion_tokens", None)
        tokens_from = "usage" if completion is not None else ("chunks" if ts else "none")
        if completion is None and ts:
            completion = len(ts)  # one content chunk is one token on the engines we drive
        return Outcome(status=status, timing=timing, answer=answer, tokens_from=tokens_from,
                       completion_tokens=completion, **kw)


async def _guarded(stream: _Stream, timeout_s: float, body: Any) -> Outcome:
    """Run a request coroutine with a timeout, turning failures into outcomes."""
    try:
        async with asyncio.timeout(timeout_s):
            result: Outcome = await body
            return result
    except TimeoutError:
        return stream.outcome("timeout", error=f"no complete answer within {timeout_s:g}s")
    except Exception as exc:  # a broken response is a failed request, never a failed point
        return stream.outcome("error", error=f"{type(exc).__name__}: {exc}")


class EngineTarget:
    """An OpenAI-compatible engine at `base_url` (ends in /v1), chat completions, streamed."""

    def __init__(
        self, name: str, base_url: str, model: str, *, max_tokens: int = 96,
        temperature: float = 0.0, ignore_eos: bool = False, timeout_s: float = 120.0,
        metrics_url: str | None = None, extra_body: dict[str, Any] | None = None,
        remote_ok: bool = False,
    ) -> None:
        self.name = name
        #: The URL may name another machine (the caller checked the consent for it).
        self.remote_ok = remote_ok
        self.model = model
        self.extra_body = extra_body or {}
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.ignore_eos = ignore_eos
        self.timeout_s = timeout_s
        self.endpoint = Endpoint.parse(base_url, remote_ok=remote_ok)
        self.http = LoopbackClient(self.endpoint)
        root = base_url.rstrip("/").removesuffix("/v1")
        self.metrics_url: str | None = (
            metrics_url if metrics_url is not None else f"{root}/metrics"
        )

    def body(self, prompt: LoadPrompt) -> dict[str, Any]:
        """The request body (sampling fixed so every stack under load is asked alike)."""
        body: dict[str, Any] = {
            "model": self.model, "messages": prompt.messages, "stream": True,
            "max_tokens": prompt.output_len or self.max_tokens,
            "temperature": self.temperature, "stream_options": {"include_usage": True},
        }
        if self.ignore_eos:
            body["ignore_eos"] = True  # vLLM and llama.cpp extension: exact output lengths
        body.update(self.extra_body)
        return body

    async def send(self, prompt: LoadPrompt) -> Outcome:
        """Stream one chat completion."""
        stream = _Stream()
        return await _guarded(stream, self.timeout_s, self._send(stream, prompt))

    async def _send(self, stream: _Stream, prompt: LoadPrompt) -> Outcome:
        payload = json.dumps(self.body(prompt)).encode()
        usage: dict[str, Any] = {}
        async with self.http.request("POST", "/chat/completions", payload) as resp:
            if resp.status != 200:
                text = (await resp.read())[:300].decode("utf-8", "replace")
                return stream.outcome("error", http_status=resp.status,
                                      error=f"HTTP {resp.status}: {text}")
            async for event in resp.events():
                if event.data == "[DONE]":
                    continue
                data = json.loads(event.data)
                if "error" in data:
                    return stream.outcome("error", http_status=200, error=str(data["error"])[:300])
                for choice in data.get("choices") or ():
                    stream.token(event.at, (choice.get("delta") or {}).get("content") or "")
                if data.get("usage"):
                    usage = data["usage"]
        if not stream.token_times:
            return stream.outcome("error", http_status=200, error="no content chunk in the stream",
                                  prompt_tokens=usage.get("prompt_tokens"))
        return stream.outcome("ok", http_status=200, prompt_tokens=usage.get("prompt_tokens"),
                              completion_tokens=usage.get("completion_tokens"))

    async def aclose(self) -> None:
        """Close connections."""
        await self.http.aclose()


class RagTarget:
    """Our RAG service at `rag_url`: `POST /ask/stream` with the question."""

    def __init__(
        self, name: str, rag_url: str, *, space_id: str = "default", max_tokens: int | None = None,
        timeout_s: float = 120.0, metrics_url: str | None = None, remote_ok: bool = False,
    ) -> None:
        self.name = name
        self.remote_ok = remote_ok
        self.space_id = space_id
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.http = LoopbackClient(Endpoint.parse(rag_url, remote_ok=remote_ok))
        self.metrics_url = metrics_url  # the engine's, when known (the service has none)

    async def send(self, prompt: LoadPrompt) -> Outcome:
        """Stream one answer; TTFT is the first `token` event at the client."""
        body: dict[str, Any] = {"q": prompt.question, "space_id": self.space_id}
        max_tokens = prompt.output_len or self.max_tokens
        if max_tokens:
            body["max_tokens"] = max_tokens
        answer = AnswerStream()  # the request starts before a connection is taken
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self.http.request("POST", "/ask/stream",
                                             json.dumps(body).encode()) as resp:
                    async for event in answer_events(resp.status, resp.pieces()):
                        answer.add(event)
                        if answer.error is not None:
                            break  # the rest of the body is not read: the connection closes
        except TimeoutError:
            answer.fail("timeout", f"no complete answer within {self.timeout_s:g}s")
        except Exception as exc:  # a broken response is a failed request, never a failed point
            answer.fail("error", f"{type(exc).__name__}: {exc}")
        answer.finish()
        usage = answer.usage
        completion = usage.get("completion_tokens")
        ts = answer.token_times
        return Outcome(
            status=answer.status, timing=answer.timing(), error=answer.error,
            http_status=answer.http_status, prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=completion if completion is not None else (len(ts) or None),
            tokens_from="usage" if completion is not None else ("chunks" if ts else "none"),
            answer=answer.answer[:_ANSWER_CHARS],
        )

    async def aclose(self) -> None:
        """Close connections."""
        await self.http.aclose()
