"""What the runner stores for each request: raw client timestamps first, metrics later.

Following GuideLLM's shape, every latency metric is derived from the raw timestamps kept
here (seconds on the runner's monotonic clock, `time.perf_counter`), so a run can be
re-scored without asking the models again.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import BaseModel, Field

Side = Literal["A", "B"]
Status = Literal["ok", "error", "timeout"]


class RetrievedSource(BaseModel):
    """A passage the stack retrieved for this request (doc id normalised to the gold id space)."""

    doc_id: str
    raw_doc_id: str = Field(default="", description="The id as the stack returned it.")
    chunk_id: str = ""
    rank: int
    score: float | None = None
    text: str = ""


class RequestTiming(BaseModel):
    """Raw client-side timestamps of one streamed request (perf_counter seconds)."""

    request_start: float
    first_token: float | None = Field(default=None, description="First chunk with content.")
    last_token: float | None = None
    request_end: float
    token_times: list[float] = Field(default_factory=list, description="Each content chunk.")
    sources_at: float | None = Field(default=None, description="When retrieval results arrived.")
    started_at_utc: str = Field(description="Wall-clock start, ISO 8601 UTC.")


class ResponseRecord(BaseModel):
    """One answer from one stack to one question, as stored."""

    run_id: str
    question_id: str
    side: Side
    stack: str
    attempt: int = 1
    status: Status
    error: str | None = None
    http_status: int | None = None
    answer: str = ""
    sources: list[RetrievedSource] = Field(default_factory=list)
    timing: RequestTiming
    prompt_tokens: int | None = None
    completion_tokens: int | None = Field(
        default=None, description="As the server reports them; else counted by tokenizer."
    )
    server_timings: dict[str, float | None] = Field(
        default_factory=dict, description="The RAG service's own timings (ms)."
    )
    model: str = ""
    engine: str = ""

    # Metrics derived from the raw timestamps, vLLM's definitions (DESIGN.md).
    @property
    def ttft_s(self) -> float | None:
        """Time to first token: first content chunk - request start."""
        t = self.timing
        return None if t.first_token is None else t.first_token - t.request_start

    @property
    def e2e_s(self) -> float:
        """End to end: last chunk (else the end of the request) - request start."""
        t = self.timing
        return (t.last_token or t.request_end) - t.request_start

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first: (E2E - TTFT) / (N - 1)."""
        n = self.completion_tokens
        ttft = self.ttft_s
        if ttft is None or n is None or n < 2:
            return None
        return (self.e2e_s - ttft) / (n - 1)

    @property
    def itl_s(self) -> list[float]:
        """Inter-token latencies: gaps between consecutive content chunks."""
        ts = self.timing.token_times
        return [b - a for a, b in itertools.pairwise(ts)]
