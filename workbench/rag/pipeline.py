"""The RAG pipeline behind the HTTP routes: embed, retrieve, build the prompt, generate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from workbench.rag.embedder import EmbedderError, get_embedder, resolve_model_path
from workbench.rag.errors import FieldError
from workbench.rag.generation import EngineClient, EngineStream
from workbench.rag.index import IndexStore, Space
from workbench.rag.prompt import Prompt, build_prompt, fixed_tokens
from workbench.rag.retrieval import Hit, Ranked, retrieve
from workbench.records.rag import (
    AskRequest,
    AskResponse,
    ComponentHealth,
    HealthResponse,
    RetrievalMode,
    SearchHit,
    Source,
    Timings,
    Usage,
)
from workbench.stacks.recipe import Stack


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


@dataclass
class Prepared:
    """A question after retrieval and prompt building, before generation."""

    request: AskRequest
    space: Space
    sources: list[Source]
    prompt: Prompt
    max_tokens: int
    timings: Timings
    started: float


class RagService:
    """One stack's RAG service state: its indexes, embedder and engine."""

    def __init__(self, stack: Stack, data_dir: Path, qdrant_location: str | None = None,
                 shared_dir: Path | None = None) -> None:
        if stack.model is None or stack.engine_base_url is None:
            raise ValueError(f"stack {stack.name}: needs a model and an engine URL to serve RAG")
        # why here: rag.index imports qdrant-client (qdrant-client takes seconds to import)
        from workbench.rag.index import qdrant_client_for

        self.stack = stack
        self.model = stack.model.name
        self.embedder = get_embedder(stack.retrieval.embedding_model,
                                     stack.retrieval.embedding_backend)
        if shared_dir is not None and qdrant_location is None:
            # The shared index's vectors.npy is the lasting copy, and every start refills
            # Qdrant from it (2 s at 5,000 chunks). A local-mode folder would commit each
            # point to SQLite on its own (18 s at 5,000 chunks here) only to keep a second
            # copy. A Qdrant server (QDRANT_URL) still takes precedence over this.
            qdrant_location = ":memory:"
        self.store = IndexStore(
            data_dir, stack.retrieval, self.embedder, qdrant_client_for(data_dir, qdrant_location),
            shared_dir=shared_dir,
        )
        self.store.load_all()
        self.engine = EngineClient(
            stack.engine_base_url, self.model, stack.generation, stack.api_key_env,
            engine=stack.engine,
        )

    def space(self, space_id: str, loc: Sequence[str]) -> Space:
        """The indexed space, or a 422 naming the field."""
        space = self.store.spaces.get(space_id)
        if space is None:
            known = ", ".join(sorted(self.store.spaces)) or "none (POST /index first)"
            raise FieldError(loc, f"unknown space_id {space_id!r}; indexed spaces: {known}")
        return space

    async def rank(
        self,
        space: Space,
        q: str,
        mode: RetrievalMode,
        top_k: int,
        doc_types: Sequence[str] | None,
        timings: Timings,
        always_embed: bool = False,
    ) -> Ranked:
        """Embed (unless BM25-only) and retrieve."""
        vector = None
        if mode != "bm25" or always_embed:
            t = time.perf_counter()
            vector = await asyncio.to_thread(self.embedder.encode_query, q)
            timings.embed_ms = _ms(t)
        t = time.perf_counter()
        retrieval = self.stack.retrieval
        if always_embed and mode != "hybrid":
            # /search reports both single-retriever lists whatever the mode.
            both = retrieve(space, q, vector, retrieval, "hybrid", top_k, doc_types)
            main = retrieve(space, q, vector, retrieval, mode, top_k, doc_types)
            ranked = Ranked(hits=main.hits, dense=both.dense, bm25=both.bm25)
        else:
            ranked = retrieve(space, q, vector, retrieval, mode, top_k, doc_types)
        timings.retrieve_ms = _ms(t)
        return ranked

    async def prepare(self, req: AskRequest) -> Prepared:
        """Everything before generation; raises `FieldError` for unusable requests."""
        started = time.perf_counter()
        space = self.space(req.space_id, ("body", "space_id"))
        gen = self.stack.generation
        max_tokens = req.max_tokens or gen.max_tokens
        fixed = fixed_tokens(req.q, gen.prompt)
        if fixed + max_tokens > gen.context_window:
            field = (
                "max_tokens"
                if req.max_tokens and fixed + gen.max_tokens <= gen.context_window
                else "q"
            )
            raise FieldError(
                ("body", field),
                f"question (~{fixed} tokens with the template) plus max_tokens ({max_tokens}) "
                f"exceed the context window ({gen.context_window})",
            )
        timings = Timings()
        mode: RetrievalMode = req.mode or self.stack.retrieval.mode
        top_k = req.top_k or self.stack.retrieval.top_k
        ranked = await self.rank(space, req.q, mode, top_k, req.doc_types, timings)
        t = time.perf_counter()
        chunks = [space.chunks[h.row] for h in ranked.hits]
        prompt = build_prompt(req.q, chunks, gen.context_window, max_tokens, gen.prompt)
        sources = [
            to_source(space, h, in_prompt=i < prompt.included) for i, h in enumerate(ranked.hits)
        ]
        timings.prompt_ms = _ms(t)
        return Prepared(req, space, sources, prompt, max_tokens, timings, started)

    async def open(self, prepared: Prepared) -> EngineStream:
        """Open the engine stream (first chunk received); raises `EngineError`."""
        return await self.engine.open(prepared.prompt.messages, prepared.max_tokens)

    def response(self, prepared: Prepared, stream: EngineStream) -> AskResponse:
        """The final answer body once the stream has ended."""
        stats = stream.stats
        timings = prepared.timings
        timings.ttft_ms = stats.ttft_ms
        timings.generation_ms = stats.generation_ms
        timings.total_ms = _ms(prepared.started)
        return AskResponse(
            answer=stats.text.strip(),
            sources=prepared.sources,
            timings=timings,
            usage=Usage(
                prompt_tokens=stats.prompt_tokens, completion_tokens=stats.completion_tokens
            ),
            context_tokens=prepared.prompt.context_tokens,
            model=self.model,
            engine=self.stack.engine,
            stack=self.stack.name,
            finish_reason=stats.finish_reason,
            engine_counters=stats.counters,
            space_id=prepared.space.space_id,
            prompt_lang=prepared.prompt.lang,
        )

    async def health(self) -> HealthResponse:
        """Per-component state; the engine check is cached a few seconds."""
        spaces = {sid: len(s.chunks) for sid, s in self.store.spaces.items()}
        if spaces:
            index = ComponentHealth(status="ok", detail=f"{len(spaces)} space(s)")
        else:
            index = ComponentHealth(status="degraded", detail="no space indexed yet: POST /index")
        name = f"{self.embedder.name} ({self.embedder.backend})"
        if self.embedder.loaded:
            embedder = ComponentHealth(status="ok", detail=f"{name} loaded")
        else:
            try:
                resolve_model_path(self.embedder.name)
                embedder = ComponentHealth(status="ok", detail=f"{name} (loads on first use)")
            except EmbedderError as exc:
                embedder = ComponentHealth(status="down", detail=str(exc))
        components = {"index": index, "embedder": embedder, "engine": await self.engine.health()}
        status: Literal["ok", "degraded"] = (
            "ok" if all(c.status == "ok" for c in components.values()) else "degraded"
        )
        return HealthResponse(
            status=status,
            stack=self.stack.name,
            engine=self.stack.engine,
            model=self.model,
            components=components,
            spaces=spaces,
        )


def to_source(space: Space, hit: Hit, in_prompt: bool = True) -> Source:
    """API view of a retrieved chunk."""
    c = space.chunks[hit.row]
    return Source(
        doc_id=c.doc_id,
        chunk_id=c.chunk_id,
        chunk_index=c.chunk_index,
        score=hit.score,
        text=c.text,
        title=c.title,
        doc_type=c.doc_type,
        in_prompt=in_prompt,
    )


def to_search_hit(space: Space, hit: Hit) -> SearchHit:
    """The seed backend's search result shape."""
    c = space.chunks[hit.row]
    payload: dict[str, object] = {
        "doc_id": c.doc_id,
        "chunk_index": c.chunk_index,
        "text": c.text,
        "title": c.title,
        "doc_type": c.doc_type,
        "space_id": space.space_id,
    }
    return SearchHit(key=c.chunk_id, score=hit.score, payload=payload)
