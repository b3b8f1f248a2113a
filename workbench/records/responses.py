"""Every record the workbench stores, in one module: raw client timestamps first, metrics
derived from them on demand.

Following GuideLLM's shape, each request keeps its raw timestamps (seconds on the client's
monotonic clock, `time.perf_counter`) in a `RequestTiming`, and TTFT, E2E, TPOT and ITL are
derived from them here, once, with vLLM's definitions (docs/architecture.md "Measuring honestly"):

  TTFT = first content chunk - request start
  E2E  = last content chunk (else the end of the request) - request start
  TPOT = (E2E - TTFT) / (N - 1), N = completion tokens as the server reports them
  ITL  = gaps between consecutive content chunks
  output rate = N / (E2E - TTFT), the decode speed a user sees once the answer starts

The A/B runner's `ResponseRecord`, the load bench's `LoadRequestRecord` and the arena all
call these, so a number means the same thing in every view.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The engine's per-request counters are part of the RAG service's answer (its contract).
from workbench.records.rag import EngineCounters

#: How a request ended: one status type for runs, load benches and the arena.
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
    """Raw client-side timestamps of one streamed request (perf_counter seconds), and the
    latency metrics derived from them (the only place they are derived)."""

    request_start: float
    first_token: float | None = Field(default=None, description="First chunk with content.")
    last_token: float | None = None
    request_end: float
    token_times: list[float] = Field(default_factory=list, description="Each content chunk.")
    sources_at: float | None = Field(default=None, description="When retrieval results arrived.")
    started_at_utc: str = Field(description="Wall-clock start, ISO 8601 UTC.")

    def ttft_s(self) -> float | None:
        """Time to first token: first content chunk - request start (None: no content)."""
        return None if self.first_token is None else self.first_token - self.request_start

    def e2e_s(self) -> float:
        """End to end: last content chunk (else the end of the request) - request start."""
        return (self.last_token or self.request_end) - self.request_start

    def tpot_s(self, completion_tokens: int | None) -> float | None:
        """Time per output token after the first: (E2E - TTFT) / (N - 1); None when N < 2."""
        ttft = self.ttft_s()
        if ttft is None or completion_tokens is None or completion_tokens < 2:
            return None
        return (self.e2e_s() - ttft) / (completion_tokens - 1)

    def itl_s(self) -> list[float]:
        """Inter-token latencies: gaps between consecutive content chunks."""
        return [b - a for a, b in itertools.pairwise(self.token_times)]

    def output_rate(self, completion_tokens: int | None) -> float | None:
        """Output tokens per second after the first token: N / (E2E - TTFT)."""
        ttft = self.ttft_s()
        if completion_tokens is None or completion_tokens < 1 or ttft is None:
            return None
        decode = self.e2e_s() - ttft
        return completion_tokens / decode if decode > 0 else None


class ResponseRecord(BaseModel):
    """One answer from one stack to one question, as stored.

    Keyed by (run, question, stack, attempt): a run's stacks are named, not lettered.
    Records stored before N-stack runs also carry `side` ("A"/"B"); it is ignored.
    """

    run_id: str
    question_id: str
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
    engine_counters: EngineCounters | None = Field(
        default=None, description="The engine's own per-request counters, when it reports them.")

    @property
    def ttft_s(self) -> float | None:
        """Time to first token (`RequestTiming.ttft_s`)."""
        return self.timing.ttft_s()

    @property
    def e2e_s(self) -> float:
        """End to end (`RequestTiming.e2e_s`)."""
        return self.timing.e2e_s()

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first (`RequestTiming.tpot_s`)."""
        return self.timing.tpot_s(self.completion_tokens)

    @property
    def itl_s(self) -> list[float]:
        """Inter-token latencies (`RequestTiming.itl_s`)."""
        return self.timing.itl_s()

    @property
    def output_rate(self) -> float | None:
        """Output tokens per second after the first (`RequestTiming.output_rate`)."""
        return self.timing.output_rate(self.completion_tokens)


def latest_attempts(responses: Iterable[ResponseRecord]
                    ) -> dict[tuple[str, str], ResponseRecord]:
    """Each (stack, question id)'s latest attempt: the in-memory twin of the store's
    `latest_responses` view, for records already read (the scorer, the checks)."""
    latest: dict[tuple[str, str], ResponseRecord] = {}
    for r in responses:
        key = (r.stack, r.question_id)
        if key not in latest or r.attempt >= latest[key].attempt:
            latest[key] = r
    return latest


class PointSpec(BaseModel):
    """One load point: how many requests, how many at once, and when they arrive."""

    model_config = ConfigDict(ser_json_inf_nan="constants")  # rate/burstiness may be inf

    requests: int = Field(ge=1, le=1_000_000, description="Requests measured at this point.")
    concurrency: int | None = Field(
        default=None, ge=1, description="Most requests in flight at once (None: unbounded)."
    )
    rate: float = Field(default=math.inf, gt=0, description="Arrivals per second (inf: all due).")
    burstiness: float = Field(
        default=1.0, gt=0, description="Gamma shape of inter-arrival gaps: 1 Poisson, inf constant."
    )
    seed: int = Field(default=0, description="Seed of the arrival schedule and prompt order.")
    max_seconds: float = Field(
        default=600.0, gt=0, description="Stop sending after this long (the point is bounded)."
    )

    @property
    def label(self) -> str:
        """Short name of the point, e.g. `c=4`, `rate=8/s poisson`, `c=8 rate=20/s gamma(0.5)`."""
        parts = []
        if self.concurrency is not None:
            parts.append(f"c={self.concurrency}")
        if not math.isinf(self.rate):
            kind = (
                "constant" if math.isinf(self.burstiness)
                else "poisson" if self.burstiness == 1.0 else f"gamma({self.burstiness:g})"
            )
            parts.append(f"rate={self.rate:g}/s {kind}")
        return " ".join(parts) or "c=inf"


class LoadRequestRecord(BaseModel):
    """One request sent during a load point, with its raw timestamps."""

    index: int = Field(description="Position in the point's schedule.")
    prompt_id: str
    due: float = Field(description="When the schedule wanted it sent (perf_counter s).")
    ready: float = Field(
        description="When it could be sent: max(due, a concurrency slot freed up)."
    )
    status: Status
    error: str | None = None
    http_status: int | None = None
    timing: RequestTiming
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_from: Literal["usage", "chunks", "none"] = Field(
        default="none", description="Where completion_tokens came from (server usage preferred)."
    )
    answer: str = Field(default="", description="The generated text (truncated).")
    correct: bool | None = Field(
        default=None, description="Gold answer found in the answer (None: no gold answers)."
    )

    @property
    def send_lag_s(self) -> float:
        """How late the client sent it: request start - ready (the generator's own delay)."""
        return self.timing.request_start - self.ready


__all__ = ["EngineCounters", "LoadRequestRecord", "PointSpec", "RequestTiming", "ResponseRecord",
           "RetrievedSource", "Status"]
