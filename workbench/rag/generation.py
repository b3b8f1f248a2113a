"""Streaming generation through the engine's OpenAI-compatible API (`openai` AsyncOpenAI).

`EngineClient.open` sends the request and waits for the first streamed chunk, so a
failure at the start (engine down, HTTP error, timeout) surfaces as `EngineError` before
the service has committed to an HTTP 200. Every timing is `time.perf_counter`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk

from workbench.records.rag import ComponentHealth, EngineCounters
from workbench.stacks.engines.registry import find_adapter
from workbench.stacks.recipe import Generation

#: How long `/health` trusts its last engine check, and how long that check may take.
HEALTH_CACHE_S = 5.0
HEALTH_TIMEOUT_S = 2.0


class EngineError(Exception):
    """The engine failed: HTTP 502 (error) or 504 (timeout) before the stream began."""

    def __init__(self, kind: Literal["engine_error", "engine_timeout"], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def status_code(self) -> int:
        """The HTTP status the service answers with."""
        return 504 if self.kind == "engine_timeout" else 502


def _map_error(exc: BaseException, base_url: str) -> EngineError:
    if isinstance(exc, openai.APITimeoutError | TimeoutError | httpx.TimeoutException):
        return EngineError("engine_timeout", f"engine at {base_url} timed out")
    if isinstance(exc, openai.APIStatusError):
        return EngineError(
            "engine_error", f"engine at {base_url} answered HTTP {exc.status_code}: {exc.message}"
        )
    if isinstance(exc, openai.APIConnectionError):
        return EngineError("engine_error", f"cannot reach engine at {base_url}: {exc}")
    return EngineError("engine_error", f"engine at {base_url} failed: {type(exc).__name__}: {exc}")


@dataclass
class GenerationStats:
    """What the stream reported, and its timings (ms from the engine request start)."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    generation_ms: float = 0.0
    counters: EngineCounters | None = None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and value >= 0 else None


def engine_counters(chunk: ChatCompletionChunk) -> EngineCounters | None:
    """The engine's own counters in one streamed chunk (its last, with usage), if any.

    llama.cpp (b11434) adds `timings` beside `usage` in its final chunk: `prompt_n`
    prompt tokens computed, `cache_n` reused from the slot's cache, `prompt_ms`,
    `predicted_ms`. vLLM puts `prompt_tokens_details.cached_tokens` in `usage` when
    started with `--enable-prompt-tokens-details`. Neither reports queue time per request.
    """
    extra = chunk.model_extra or {}
    timings = extra.get("timings")
    if isinstance(timings, dict) and ("prompt_n" in timings or "cache_n" in timings):
        computed, cached = _int(timings.get("prompt_n")), _int(timings.get("cache_n"))
        return EngineCounters(
            prompt_tokens=(computed or 0) + (cached or 0) if computed is not None
            or cached is not None else None,
            cached_tokens=cached, prompt_ms=_float(timings.get("prompt_ms")),
            decode_ms=_float(timings.get("predicted_ms")), source="timings",
        )
    usage = chunk.usage
    details = usage.prompt_tokens_details if usage is not None else None
    if usage is not None and details is not None and details.cached_tokens is not None:
        return EngineCounters(prompt_tokens=usage.prompt_tokens,
                              cached_tokens=details.cached_tokens, source="usage")
    return None


class EngineStream:
    """An engine stream whose first chunk has arrived; iterate it for answer pieces."""

    def __init__(
        self,
        chunks: AsyncIterator[ChatCompletionChunk],
        first: ChatCompletionChunk | None,
        started: float,
        base_url: str,
        timeout_s: float,
    ) -> None:
        self._chunks = chunks
        self._first = first
        self._started = started
        self._base_url = base_url
        self._timeout_s = timeout_s
        self.stats = GenerationStats()

    def _take(self, chunk: ChatCompletionChunk) -> str:
        now = time.perf_counter()
        if chunk.usage is not None:
            self.stats.prompt_tokens = chunk.usage.prompt_tokens
            self.stats.completion_tokens = chunk.usage.completion_tokens
        if (counters := engine_counters(chunk)) is not None:
            self.stats.counters = counters
        piece = ""
        for choice in chunk.choices:
            if choice.delta.content:
                piece += choice.delta.content
            if choice.finish_reason:
                self.stats.finish_reason = choice.finish_reason
        if piece:
            if self.stats.ttft_ms is None:
                self.stats.ttft_ms = (now - self._started) * 1000
            self.stats.text += piece
        self.stats.generation_ms = (now - self._started) * 1000
        return piece

    async def pieces(self) -> AsyncIterator[str]:
        """Answer pieces as the engine streams them; raises `EngineError` mid-stream."""
        if self._first is not None:
            first, self._first = self._first, None
            if piece := self._take(first):
                yield piece
        while True:
            try:
                async with asyncio.timeout(self._timeout_s):
                    chunk = await anext(self._chunks)
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise _map_error(exc, self._base_url) from exc
            if piece := self._take(chunk):
                yield piece
        self.stats.generation_ms = (time.perf_counter() - self._started) * 1000

    async def aclose(self) -> None:
        """Stop reading (frees the engine slot when a client goes away)."""
        closer = getattr(self._chunks, "aclose", None)
        if closer is not None:
            try:
                await closer()
            except Exception:  # noqa: S110 - closing a broken stream is best effort
                pass


class EngineClient:
    """The engine a stack's RAG service talks to."""

    def __init__(
        self, base_url: str, model: str, settings: Generation, api_key_env: str | None = None,
        engine: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: The recipe's engine kind: its adapter shapes each request (llama.cpp takes the
        #: prompt-cache switch per request, TGI refuses top_p 1.0).
        self.engine = engine
        self.model = model
        self.settings = settings
        self._api_key = (os.environ.get(api_key_env) if api_key_env else None) or "unused"
        self._clients: dict[int, AsyncOpenAI] = {}
        self._health: tuple[float, ComponentHealth] | None = None

    def _client(self) -> AsyncOpenAI:
        # httpx connection pools belong to one event loop; tests (and the TestClient)
        # may run the app on several, so keep one client per running loop.
        key = id(asyncio.get_running_loop())
        client = self._clients.get(key)
        if client is None:
            client = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self.settings.timeout_s,
                max_retries=0,  # a retried request would hide the failure and skew timings
            )
            self._clients = {key: client}
        return client

    async def open(self, messages: list[dict[str, str]], max_tokens: int) -> EngineStream:
        """Start a streamed chat completion and wait for its first chunk."""
        g = self.settings
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": g.temperature,
            "top_p": g.top_p,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if g.seed is not None:
            params["seed"] = g.seed
        adapter = find_adapter(self.engine)
        if adapter is not None:
            params = adapter.shape_request(params, g.prefix_caching)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(g.timeout_s):
                try:
                    stream = await self._client().chat.completions.create(**params)
                except openai.APIConnectionError as exc:
                    # One retry, for a connection error only (not a timeout): the engine
                    # may close an idle keep-alive connection just as we reuse it; such a
                    # request never reached it. Seen under load with llama.cpp.
                    if isinstance(exc, openai.APITimeoutError):
                        raise
                    stream = await self._client().chat.completions.create(**params)
                chunks = aiter(stream)
                try:
                    first: ChatCompletionChunk | None = await anext(chunks)
                except StopAsyncIteration:
                    first = None
        except Exception as exc:
            raise _map_error(exc, self.base_url) from exc
        return EngineStream(chunks, first, started, self.base_url, g.timeout_s)

    async def health(self) -> ComponentHealth:
        """`GET /models` with a short timeout; the answer is cached a few seconds."""
        now = time.monotonic()
        if self._health is not None and now - self._health[0] < HEALTH_CACHE_S:
            return self._health[1]
        try:
            async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as client:
                r = await client.get(
                    f"{self.base_url}/models",
                    headers={"Authorization": f"Bearer {self._api_key}"},
                )
            if r.status_code == 200:
                result = ComponentHealth(status="ok", detail=f"{self.base_url} answers")
            else:
                result = ComponentHealth(
                    status="down", detail=f"{self.base_url}/models: HTTP {r.status_code}"
                )
        except httpx.HTTPError as exc:
            result = ComponentHealth(
                status="down", detail=f"{self.base_url}: {type(exc).__name__} {exc}".strip()
            )
        self._health = (time.monotonic(), result)
        return result
