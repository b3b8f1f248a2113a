"""Latency scorers, from the raw client timestamps kept in each `ResponseRecord`.

Definitions are vLLM's (`vllm bench serve`), as docs/architecture.md requires:
TTFT = first content chunk - request start; TPOT = (E2E - TTFT) / (N - 1);
ITL = gaps between consecutive content chunks; E2E = last chunk - request start;
N = completion tokens as the server reports them. Output rate is per request:
N / (E2E - TTFT), the decode speed a user sees once the answer starts. Retrieval time is
the RAG service's own `embed_ms + retrieve_ms`. Failed requests are excluded (`None`):
they are reported as the error rate instead. All durations are in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from workbench.scoring.base import Metric, Sample

PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class LatencyScorer:
    """A latency scorer: a per-request value plus the distribution summarised per stack
    (the per-request values, except ITL, whose gaps are pooled over all requests as vLLM
    does)."""

    metric: Metric
    value: Callable[[Sample], float | None]
    pooled: Callable[[Sample], list[float]] | None = None

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        """Per-request values (`None` for failed requests or missing data)."""
        return [self.value(s) if s.ok else None for s in samples]

    def distribution(self, samples: Sequence[Sample]) -> list[float]:
        """Every observation summarised for one stack (successful requests only)."""
        if self.pooled is None:
            return [v for v in self(samples) if v is not None]
        return [x for s in samples if s.ok for x in self.pooled(s)]


class LatencySummary(BaseModel):
    """Mean and percentiles of one latency metric on one side."""

    n: int = Field(description="Observations (requests, or token gaps for ITL).")
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None


def summarize(values: Sequence[float]) -> LatencySummary:
    """Mean and p50/p90/p95/p99 (numpy's linear interpolation) of the values."""
    if not values:
        return LatencySummary(n=0)
    arr = np.asarray(values, dtype=np.float64)
    p50, p90, p95, p99 = (float(x) for x in np.percentile(arr, PERCENTILES))
    return LatencySummary(n=arr.size, mean=float(arr.mean()), p50=p50, p90=p90, p95=p95, p99=p99)


def _metric(key: str, label: str, definition: str, unit: str = "s",
            higher_is_better: bool = False) -> Metric:
    return Metric(key, label, "latency", definition, unit=unit, higher_is_better=higher_is_better)


def ttft() -> LatencyScorer:
    """Time to first token (s)."""
    return LatencyScorer(_metric("ttft", "TTFT", "first streamed content chunk - request start"),
                         lambda s: s.response.ttft_s)


def e2e() -> LatencyScorer:
    """End-to-end latency (s)."""
    return LatencyScorer(_metric("e2e", "E2E", "last content chunk - request start"),
                         lambda s: s.response.e2e_s)


def tpot() -> LatencyScorer:
    """Time per output token after the first (s)."""
    return LatencyScorer(
        _metric("tpot", "TPOT", "(E2E - TTFT) / (N - 1), N = completion tokens"),
        lambda s: s.response.tpot_s,
    )


def _mean_gap(s: Sample) -> float | None:
    gaps = s.response.itl_s
    return sum(gaps) / len(gaps) if gaps else None


def itl() -> LatencyScorer:
    """Inter-token latency (s): per request the mean gap; per stack all gaps pooled."""
    return LatencyScorer(
        _metric("itl", "ITL", "gaps between consecutive content chunks (a stack's summary "
                "pools all gaps; paired comparisons use each request's mean gap)"),
        _mean_gap,
        pooled=lambda s: s.response.itl_s,
    )


def _retrieval_s(s: Sample) -> float | None:
    parts = [s.response.server_timings.get(k) for k in ("embed_ms", "retrieve_ms")]
    known = [p for p in parts if p is not None]
    return sum(known) / 1000.0 if known else None


def retrieval_time() -> LatencyScorer:
    """The RAG service's query embedding + retrieval time (s)."""
    return LatencyScorer(_metric("retrieval", "Retrieval", "server embed_ms + retrieve_ms"),
                         _retrieval_s)


def output_rate() -> LatencyScorer:
    """Per-request output rate (tokens/s): N / (E2E - TTFT)."""
    return LatencyScorer(
        _metric("tok_s", "Output tok/s", "per request: completion tokens / (E2E - TTFT)",
                unit="tok/s", higher_is_better=True),
        lambda s: s.response.output_rate,
    )


def latency_scorers() -> list[LatencyScorer]:
    """The latency metrics every scorecard reports, in display order."""
    return [ttft(), tpot(), itl(), e2e(), retrieval_time(), output_rate()]
