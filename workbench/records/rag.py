"""The RAG service's HTTP contract (request and response bodies, SSE events).

Compatible with the seed backend users already run: `POST /ask {"q", "space_id", "top_k",
"doc_types", "mode"}` -> `{"answer", "sources": [{"doc_id", "chunk_index", "doc_type"}],
"context_tokens", "model"}`; we return a superset (scores, text, timings, usage, engine).

`POST /ask/stream` sends server-sent events, in order:
  `event: sources` data: `SourcesEvent`  (retrieval is done)
  `event: token`   data: `TokenEvent`    (one per streamed piece of the answer)
  `event: done`    data: `AskResponse`   (the whole answer, timings and usage)
or, when the engine fails after the stream began, `event: error` data: `ErrorBody`.
Before the stream begins, an engine failure is HTTP 502 (504 for a timeout) with `ErrorBody`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.records.passage import Passage

MAX_QUESTION_CHARS = 4000
MAX_TOP_K = 50
MAX_SPACE_ID_CHARS = 128
#: A space id names a folder under the service's `spaces/`: letters, digits, `.`, `_` and
#: `-`, not starting with a dot (so never `.`, `..` or a hidden folder).
SPACE_ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"
SPACE_ID_RULE = "letters, digits, '.', '_' or '-', not starting with '.'"

SpaceId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SPACE_ID_CHARS,
        pattern=SPACE_ID_PATTERN,
        description=f"Which indexed corpus ({SPACE_ID_RULE}).",
    ),
]

RetrievalMode = Literal["hybrid", "dense", "bm25"]


class AskRequest(BaseModel):
    """A question for the RAG assistant (the seed backend's fields)."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question.")
    space_id: SpaceId = "default"
    top_k: int | None = Field(
        default=None, ge=1, le=MAX_TOP_K, description="Chunks to retrieve (recipe default)."
    )
    doc_types: list[str] | None = Field(default=None, description="Only these doc types.")
    mode: RetrievalMode | None = Field(default=None, description="Retrieval mode override.")
    max_tokens: int | None = Field(default=None, ge=1, le=8192, description="Answer length cap.")


class Source(BaseModel):
    """One retrieved chunk the answer was built from."""

    doc_id: str = Field(description="Passage id the chunk came from (gold ids are passage ids).")
    chunk_id: str = Field(description="`<doc_id>#<chunk_index>`.")
    chunk_index: int
    score: float = Field(description="Fused (or single-retriever) score; higher is better.")
    text: str
    title: str = ""
    doc_type: str | None = None
    in_prompt: bool = Field(
        default=True,
        description="Whether the chunk fit in the prompt's token budget (false: retrieved "
        "but left out of the prompt).",
    )


class Timings(BaseModel):
    """Where the time went, in milliseconds, from the service's monotonic clock."""

    embed_ms: float = 0.0
    retrieve_ms: float = 0.0
    prompt_ms: float = 0.0
    ttft_ms: float | None = Field(default=None, description="Engine request start -> 1st token.")
    generation_ms: float = Field(default=0.0, description="Engine request start -> last token.")
    total_ms: float = 0.0


class Usage(BaseModel):
    """Token counts as the engine reports them (else counted by the service)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class EngineCounters(BaseModel):
    """What the engine itself reported about one request (None: it did not say).

    llama.cpp's `timings` give `prompt_n` (prompt tokens it computed) and `cache_n` (prompt
    tokens it reused from its cache): `prompt_tokens` = both, `cached_tokens` = `cache_n`.
    vLLM's `usage.prompt_tokens_details.cached_tokens` (served with
    `--enable-prompt-tokens-details`) are the prompt tokens its prefix cache served.
    """

    prompt_tokens: int | None = Field(default=None, description="Prompt tokens, all of them.")
    cached_tokens: int | None = Field(
        default=None, description="Prompt tokens served from the engine's prompt/prefix cache.")
    prompt_ms: float | None = Field(
        default=None, description="Engine time computing the uncached prompt tokens (prefill).")
    decode_ms: float | None = Field(default=None, description="Engine time generating.")
    queue_ms: float | None = Field(default=None, description="Time queued inside the engine.")
    source: str = Field(default="", description='Where they came from: "timings" (llama.cpp) '
                        'or "usage" (OpenAI usage details).')


class AskResponse(BaseModel):
    """The answer with its sources, timings and usage."""

    answer: str
    sources: list[Source]
    timings: Timings
    usage: Usage
    context_tokens: int = Field(description="Tokens of retrieved context put in the prompt.")
    model: str
    engine: str
    stack: str = ""
    finish_reason: str | None = None
    engine_counters: EngineCounters | None = Field(
        default=None, description="The engine's own counters for this request (prompt tokens, "
        "those served from its cache, prefill time), when it reports them.")
    space_id: str = Field(default="", description="The space the sources came from.")
    prompt_lang: str | None = Field(default=None, description="Template language (en/ru).")


class SourcesEvent(BaseModel):
    """First SSE event: what was retrieved, and how long retrieval took."""

    sources: list[Source]
    timings: Timings


class TokenEvent(BaseModel):
    """One streamed piece of the answer."""

    text: str


class ErrorDetail(BaseModel):
    """What went wrong."""

    type: Literal["engine_error", "engine_timeout", "not_found", "bad_request", "internal"]
    message: str


class ErrorBody(BaseModel):
    """JSON body of every non-422 error response and of the SSE `error` event."""

    error: ErrorDetail


class IndexRequest(BaseModel):
    """Index a corpus into a space (reused when corpus and settings are unchanged)."""

    model_config = ConfigDict(extra="forbid")

    space_id: SpaceId
    passages: list[Passage] = Field(min_length=1)


class IndexResponse(BaseModel):
    """What indexing did."""

    space_id: str
    passages: int
    chunks: int
    reused: bool = Field(description="Nothing was embedded: the space was already loaded, "
                         "or read from the shared index another service built.")
    digest: str = Field(description="Digest of corpus + chunking/embedding settings: the "
                        "index key (stacks with the same key share one index).")
    seconds: float
    shared: bool = Field(default=False, description="The index lives in the machine's shared "
                         "store (`<state_dir>/indexes/<digest>`), not in this service only.")


class SearchHit(BaseModel):
    """One search result in the seed shape (`key`, `score`, `payload`)."""

    key: str
    score: float
    payload: dict[str, object]


class SearchResponse(BaseModel):
    """Fused results plus the dense-only and BM25-only lists."""

    results: list[SearchHit]
    dense: list[SearchHit]
    bm25: list[SearchHit]
    timings: Timings


class ComponentHealth(BaseModel):
    """One component's state."""

    status: Literal["ok", "degraded", "down"]
    detail: str = ""


class HealthResponse(BaseModel):
    """`GET /health`."""

    status: Literal["ok", "degraded"]
    stack: str
    engine: str
    model: str
    components: dict[str, ComponentHealth]
    spaces: dict[str, int] = Field(default_factory=dict, description="space_id -> chunks.")
