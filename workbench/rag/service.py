"""The per-stack RAG service (FastAPI): /index, /search, /ask, /ask/stream, /health.

See `workbench.records.rag` for the bodies and the SSE event sequence.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from workbench.rag.auth import BearerAuth
from workbench.rag.errors import FieldError, install_handlers
from workbench.rag.generation import EngineError
from workbench.rag.pipeline import RagService, to_search_hit
from workbench.records.rag import (
    MAX_QUESTION_CHARS,
    MAX_SPACE_ID_CHARS,
    MAX_TOP_K,
    SPACE_ID_PATTERN,
    SPACE_ID_RULE,
    AskRequest,
    AskResponse,
    ErrorBody,
    ErrorDetail,
    HealthResponse,
    IndexRequest,
    IndexResponse,
    RetrievalMode,
    SearchResponse,
    SourcesEvent,
    Timings,
    TokenEvent,
)
from workbench.stacks.recipe import Stack

log = logging.getLogger(__name__)
#: One line per question received, written before anything can fail: the chaos lab counts
#: these against the answers stored, so a question asked twice shows (never the text).
asks_log = logging.getLogger("workbench.rag.asks")
ASK_RECEIVED = "ask received"

_ENGINE_ERRORS: dict[int | str, dict[str, object]] = {
    502: {"model": ErrorBody, "description": "The engine failed before the answer began."},
    504: {"model": ErrorBody, "description": "The engine timed out before the answer began."},
}


#: One server-sent event, as OpenAPI tools (schemathesis) see it: `event` and `data` fields.
_SSE_EVENT_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["sources", "token", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


def sse(event: str, data: BaseModel) -> bytes:
    """One server-sent event (the JSON is a single line, so one `data:` field)."""
    return f"event: {event}\ndata: {data.model_dump_json()}\n\n".encode()


def create_app(
    stack: Stack,
    data_dir: Path,
    *,
    qdrant_location: str | None = None,
    warm: bool = False,
    api_key: str | None = None,
    shared_dir: Path | None = None,
) -> FastAPI:
    """The RAG service of `stack`, keeping its indexes under `data_dir`.

    `qdrant_location=":memory:"` keeps Qdrant in memory (tests); `warm=True` loads the
    embedding model in the background at start-up so the first question does not pay
    for it. With `api_key`, every request but `GET /health` needs
    `Authorization: Bearer <api_key>` (401 otherwise). With `shared_dir`, indexes are
    content-addressed there and shared with every other service using the same folder
    (`workbench.rag.shared_index`); without it, each space is this service's own.
    """
    service = RagService(stack, data_dir, qdrant_location, shared_dir)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            threading.Thread(
                target=service.embedder.load, name="embedder-warmup", daemon=True
            ).start()
        try:
            yield
        finally:
            service.store.close()

    app = FastAPI(
        title=f"RAG service: {stack.name}",
        description="Hybrid retrieval (Qdrant + BM25) and streamed generation for one stack.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service
    install_handlers(app)
    if api_key:
        app.add_middleware(BearerAuth, api_key=api_key)

    @app.post("/index", response_model=IndexResponse)
    async def index(req: IndexRequest) -> IndexResponse:
        """Index a corpus into a space; reused when corpus and settings are unchanged."""
        seen: set[str] = set()
        for i, p in enumerate(req.passages):
            if p.id in seen:
                raise FieldError(("body", "passages", i, "id"), f"duplicate passage id {p.id!r}")
            seen.add(p.id)
        result = await asyncio.to_thread(service.store.build, req.space_id, req.passages)
        return IndexResponse(
            space_id=result.space_id,
            passages=result.passages,
            chunks=result.chunks,
            reused=result.reused,
            digest=result.digest,
            seconds=round(result.seconds, 3),
            shared=result.shared,
        )

    @app.get("/search", response_model=SearchResponse)
    async def search(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS)],
        space_id: Annotated[
            str,
            Query(
                min_length=1,
                max_length=MAX_SPACE_ID_CHARS,
                pattern=SPACE_ID_PATTERN,
                description=f"Which indexed corpus ({SPACE_ID_RULE}).",
            ),
        ] = "default",
        top_k: Annotated[int | None, Query(ge=1, le=MAX_TOP_K)] = None,
        mode: RetrievalMode | None = None,
        doc_types: Annotated[list[str] | None, Query()] = None,
    ) -> SearchResponse:
        """Fused results in the seed shape, plus the dense-only and BM25-only lists."""
        space = service.space(space_id, ("query", "space_id"))
        timings = Timings()
        started = time.perf_counter()
        ranked = await service.rank(
            space,
            q,
            mode or stack.retrieval.mode,
            top_k or stack.retrieval.top_k,
            doc_types,
            timings,
            always_embed=True,
        )
        timings.total_ms = (time.perf_counter() - started) * 1000
        return SearchResponse(
            results=[to_search_hit(space, h) for h in ranked.hits],
            dense=[to_search_hit(space, h) for h in ranked.dense],
            bm25=[to_search_hit(space, h) for h in ranked.bm25],
            timings=timings,
        )

    @app.post("/ask", response_model=AskResponse, responses=_ENGINE_ERRORS)
    async def ask(req: AskRequest) -> AskResponse:
        """Answer a question from the space's documents (not streamed)."""
        asks_log.info("%s: /ask, space %s", ASK_RECEIVED, req.space_id)
        prepared = await service.prepare(req)
        stream = await service.open(prepared)
        try:
            async for _ in stream.pieces():
                pass
        finally:
            await stream.aclose()
        return service.response(prepared, stream)

    @app.post(
        "/ask/stream",
        responses={
            200: {
                "content": {"text/event-stream": {"schema": _SSE_EVENT_SCHEMA}},
                "description": "Server-sent events: `sources` (SourcesEvent), `token` "
                "(TokenEvent) per streamed piece, then `done` (AskResponse) or `error` "
                "(ErrorBody); each `data` is one line of JSON.",
            },
            **_ENGINE_ERRORS,
        },
        response_class=StreamingResponse,
    )
    async def ask_stream(req: AskRequest) -> StreamingResponse:
        """Answer as server-sent events: sources, tokens as they stream, then done."""
        asks_log.info("%s: /ask/stream, space %s", ASK_RECEIVED, req.space_id)
        prepared = await service.prepare(req)
        # Opening waits for the engine's first chunk, so early failures are still 502/504.
        stream = await service.open(prepared)

        async def events() -> AsyncIterator[bytes]:
            try:
                yield sse(
                    "sources", SourcesEvent(sources=prepared.sources, timings=prepared.timings)
                )
                async for piece in stream.pieces():
                    yield sse("token", TokenEvent(text=piece))
                yield sse("done", service.response(prepared, stream))
            except EngineError as exc:
                log.warning("engine failed mid-stream: %s", exc.message)
                yield sse("error", ErrorBody(error=ErrorDetail(type=exc.kind, message=exc.message)))
            finally:
                await stream.aclose()

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/health", response_model=HealthResponse)
    async def health() -> HealthResponse:
        """`ok` when index, embedder and engine are all fine, else `degraded` with detail."""
        return await service.health()

    return app
