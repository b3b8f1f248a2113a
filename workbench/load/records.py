"""Typed records of a load benchmark: what a point asks for, what each request did.

Per request we keep the raw client timestamps (`RequestTiming`, the runner's GuideLLM-style
model, on the `time.perf_counter` clock) plus when the request was due, so every metric
(and the client's own send lag) is derived later from the stored record.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.runner.records import RequestTiming

Target = Literal["engine", "rag", "url"]
RequestStatus = Literal["ok", "error", "timeout"]


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
    status: RequestStatus
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
