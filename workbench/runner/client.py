"""Clients that ask one stack one question and time it on the client's monotonic clock.

`RagServiceClient` speaks our RAG service's streaming endpoint (`POST /ask/stream`, SSE:
`sources`, `token`*, `done` | `error`) over httpx, read by `workbench.rag.stream` (the same
reader as the load bench's and the arena's). An existing RAG backend of the seed shape is
driven by `workbench.runner.external.ExternalClient` (fields mapped by the recipe).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from workbench.rag.auth import API_KEY_ENV
from workbench.rag.stream import (
    AnswerStream,
    StreamEvent,
    answer_events,
    error_message,
)
from workbench.runner.external import ExternalClient
from workbench.runner.stack_client import CONNECT_ERRORS, Answer, StackClient
from workbench.stacks.kinds import stack_kind
from workbench.stacks.recipe import Stack


def _error_text(resp: httpx.Response) -> str:
    return error_message(resp.content)


async def _stamped(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[float, bytes]]:
    # Stamped as httpx hands each network read over: the load client's rule, so TTFT here
    # and in a load point mean the same.
    async for chunk in chunks:
        yield time.perf_counter(), chunk


class RagServiceClient:
    """Our RAG service, through its streaming endpoint."""

    def __init__(self, stack: Stack, *, timeout_s: float = 120.0) -> None:
        self.stack = stack
        self.timeout_s = timeout_s
        #: The key of the index the service answered `prepare` with (None before it).
        self.index_key: str | None = None
        self._http = httpx.AsyncClient(
            base_url=stack.rag_url,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            # The RAG service's own key (WORKBENCH_API_KEY), not the engine's: the service
            # requires it whenever it was started with one (always, off loopback).
            headers=_auth_headers(API_KEY_ENV),
        )

    async def prepare(self, space_id: str, passages: list[dict[str, Any]]) -> str:
        """Index the corpus (the service reuses an unchanged index)."""
        resp = await self._http.post(
            "/index", json={"space_id": space_id, "passages": passages}, timeout=1800
        )
        if resp.status_code != 200:
            raise RuntimeError(
                f"{self.stack.name}: indexing {space_id} failed with HTTP {resp.status_code}: "
                f"{_error_text(resp)}"
            )
        body = resp.json()
        self.index_key = str(body["digest"]) if body.get("digest") else None
        verb = "reused" if body.get("reused") else "built"
        where = "shared index" if body.get("shared") else "index"
        return (f"{body.get('chunks')} chunks {verb} in {body.get('seconds', 0):.1f}s "
                f"({where} {(self.index_key or '?')[:12]})")

    async def stream(self, question: str, space_id: str,
                     top_k: int | None = None) -> AsyncIterator[StreamEvent]:
        """Yield the service's events as they arrive: `sources`, `token`*, `done` | `error`.

        An HTTP error before the stream began is yielded as one `error` event (with the
        status code); connection failures raise (the runner retries only those).
        """
        body: dict[str, Any] = {"q": question, "space_id": space_id}
        if top_k is not None:
            body["top_k"] = top_k
        async with self._http.stream("POST", "/ask/stream", json=body,
                                     headers={"Accept": "text/event-stream"}) as resp:
            async for event in answer_events(resp.status_code, _stamped(resp.aiter_bytes())):
                yield event

    async def ask(self, question: str, space_id: str) -> Answer:
        """Stream one answer; TTFT is the first non-empty `token` event at the client."""
        stream = AnswerStream()
        try:
            async with asyncio.timeout(self.timeout_s):
                async for ev in self.stream(question, space_id):
                    stream.add(ev)
        except TimeoutError:
            # Named with both URLs: a stalled remote engine stalls its local RAG service.
            engine = f" (engine {self.stack.engine_base_url})" if self.stack.engine_base_url \
                else ""
            stream.fail("timeout", f"no complete answer from {self.stack.rag_url}{engine} "
                                   f"within {self.timeout_s:g}s")
        except CONNECT_ERRORS:
            raise
        except (httpx.HTTPError, ValueError) as exc:
            stream.fail("error", f"{type(exc).__name__} from {self.stack.rag_url}: "
                                 f"{str(exc) or 'the connection was closed or reset'}")
        stream.finish()
        ans = Answer(status=stream.status, timing=stream.timing(), answer=stream.answer,
                     error=stream.error, http_status=stream.http_status,
                     sources=stream.sources)
        if stream.done is not None:
            done = stream.done
            ans.prompt_tokens = stream.usage.get("prompt_tokens")
            ans.completion_tokens = (stream.usage.get("completion_tokens")
                                     or (len(stream.token_times) or None))
            ans.server_timings = dict(done.get("timings") or {})
            ans.model = str(done.get("model", ""))
            ans.engine = str(done.get("engine", ""))
            ans.engine_counters = stream.engine_counters
        return ans

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()


def _auth_headers(env_name: str | None) -> dict[str, str]:
    # The token is read from the environment at call time and never stored or logged.
    token = os.environ.get(env_name) if env_name else None
    return {"Authorization": f"Bearer {token}"} if token else {}


def client_for(stack: Stack, *, timeout_s: float = 120.0) -> StackClient:
    """The right client for a stack's kind."""
    if stack_kind(stack).client_kind == "mapped-api":
        api_key_env = stack.external.api_key_env if stack.external else None
        return ExternalClient(stack, timeout_s=timeout_s, headers=_auth_headers(api_key_env))
    return RagServiceClient(stack, timeout_s=timeout_s)
