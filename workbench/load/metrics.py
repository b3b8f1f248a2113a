"""Latency and throughput metrics of a load point, with vLLM's definitions (labelled so).

From each request's raw timestamps (docs/architecture.md "Measuring honestly", `vllm bench serve`):
  TTFT = first content chunk - request start
  E2E  = last content chunk - request start
  TPOT = (E2E - TTFT) / (N - 1), N = completion tokens as the server reports them
  ITL  = gaps between consecutive content chunks (pooled over all requests)
  request throughput = completed / duration; output tokens/s = completed requests' N /
  duration; total tokens/s = (prompt + completion tokens) / duration
  goodput = completed requests meeting every SLO / duration (a request with N <= 1 has
  TPOT 0 for the SLO, as in vLLM); correct goodput additionally needs a correct answer,
  by the scorecard's "gold contained" rule (`scoring.answer.answer_is_correct`).
Percentile summaries are `scoring.latency.summarize`, the scorecard's own (numpy's linear
interpolation, the same as vLLM's), in seconds like every latency the workbench stores;
views convert to milliseconds when they print.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.records.responses import LoadRequestRecord, PointSpec
from workbench.scoring.latency import LatencySummary
from workbench.scoring.latency import summarize as summarize_latency

DEFINITIONS = "vLLM (vllm bench serve) definitions; client-side, time.perf_counter"
SLO_KEYS = {"ttft": "ttft", "tpot": "tpot", "e2e": "e2e", "e2el": "e2e"}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s)?\s*$")


def distribution(seconds: Sequence[float]) -> LatencySummary | None:
    """Mean and percentiles of one metric in seconds (`scoring.latency.summarize`); None
    when there are no values, so a point without e.g. a second token shows no TPOT."""
    return summarize_latency(seconds) if seconds else None


class PointSummary(BaseModel):
    """Everything reported for one load point of one stack."""

    # An unbounded rate is infinity: keep it through JSON rather than turning it into null.
    model_config = ConfigDict(ser_json_inf_nan="constants")

    label: str
    concurrency: int | None
    rate: float
    burstiness: float
    requests: int = Field(description="Requests sent.")
    completed: int
    failed: int
    error_rate: float
    duration_s: float
    request_throughput: float = Field(description="Completed requests per second.")
    output_throughput: float = Field(description="Completion tokens per second.")
    total_token_throughput: float = Field(description="Prompt + completion tokens per second.")
    latency_unit: Literal["s"] = Field(
        default="s", description="Unit of every latency summary and SLO below (benches stored "
        "before it existed were in ms; `store.load_benches` converts them when read).")
    ttft: LatencySummary | None = None
    tpot: LatencySummary | None = None
    itl: LatencySummary | None = None
    e2e: LatencySummary | None = None
    send_lag: LatencySummary | None = Field(
        default=None, description="Client lag behind its schedule.")
    slo_s: dict[str, float] = Field(default_factory=dict, description="SLO limits (s).")
    goodput: float | None = Field(default=None, description="Requests/s meeting every SLO.")
    correct_goodput: float | None = Field(
        default=None, description="Requests/s meeting every SLO with a correct answer."
    )
    accuracy: float | None = Field(default=None, description="Correct / requests with gold.")
    tokens_from: str = Field(default="usage", description="usage | chunks | mixed")
    cpu_s: float | None = Field(
        default=None, description="CPU seconds the stack's processes used during the point.")
    peak_rss_mb: float | None = Field(
        default=None, description="Largest RSS of the stack's processes, sampled at its end.")
    definitions: str = DEFINITIONS


def parse_slo(text: str | None) -> dict[str, float]:
    """`ttft=500ms,tpot=50ms,e2e=2s` -> {"ttft": 0.5, "tpot": 0.05, "e2e": 2.0} (seconds)."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        name = SLO_KEYS.get(key.strip().lower())
        match = _DURATION.match(value)
        if not sep or name is None or match is None:
            raise ValueError(
                f"bad SLO {part.strip()!r}: use e.g. ttft=500ms,tpot=50ms,e2e=2s "
                f"(metrics: {', '.join(sorted(set(SLO_KEYS.values())))})"
            )
        number = float(match.group(1))
        out[name] = number / 1000.0 if match.group(2) in (None, "ms") else number
    return out


def ttft_s(r: LoadRequestRecord) -> float | None:
    """First content chunk - request start (`RequestTiming.ttft_s`)."""
    return r.timing.ttft_s()


def e2e_s(r: LoadRequestRecord) -> float:
    """Last content chunk (else request end) - request start (`RequestTiming.e2e_s`)."""
    return r.timing.e2e_s()


def tpot_s(r: LoadRequestRecord) -> float | None:
    """(E2E - TTFT) / (N - 1); None when N < 2 (`RequestTiming.tpot_s`)."""
    return r.timing.tpot_s(r.completion_tokens)


def itl_s(r: LoadRequestRecord) -> list[float]:
    """Gaps between consecutive content chunks (`RequestTiming.itl_s`)."""
    return r.timing.itl_s()


def meets_slo(r: LoadRequestRecord, slo: dict[str, float]) -> bool:
    """A completed request within every given SLO (TPOT 0 when N <= 1, as vLLM does)."""
    if r.status != "ok":
        return False
    values = {"ttft": ttft_s(r), "tpot": tpot_s(r) or 0.0, "e2e": e2e_s(r)}
    return all((values[k] is not None and values[k] <= limit)  # type: ignore[operator]
               for k, limit in slo.items())


def summarize(
    spec: PointSpec, records: Sequence[LoadRequestRecord], duration_s: float,
    slo: dict[str, float] | None = None,
) -> PointSummary:
    """Summarize one point from its requests' raw records."""
    slo = slo or {}
    ok = [r for r in records if r.status == "ok"]
    dur = max(duration_s, 1e-9)
    out_tokens = sum(r.completion_tokens or 0 for r in ok)
    in_tokens = sum(r.prompt_tokens or 0 for r in ok)
    sources = {r.tokens_from for r in ok}
    graded = [r for r in records if r.correct is not None]
    summary = PointSummary(
        label=spec.label, concurrency=spec.concurrency, rate=spec.rate,
        burstiness=spec.burstiness, requests=len(records), completed=len(ok),
        failed=len(records) - len(ok),
        error_rate=(len(records) - len(ok)) / len(records) if records else 0.0,
        duration_s=duration_s, request_throughput=len(ok) / dur,
        output_throughput=out_tokens / dur, total_token_throughput=(in_tokens + out_tokens) / dur,
        ttft=distribution([v for r in ok if (v := ttft_s(r)) is not None]),
        tpot=distribution([v for r in ok if (v := tpot_s(r)) is not None]),
        itl=distribution([g for r in ok for g in itl_s(r)]),
        e2e=distribution([e2e_s(r) for r in ok]),
        send_lag=distribution([max(r.send_lag_s, 0.0) for r in records]),
        slo_s=dict(slo),
        accuracy=sum(bool(r.correct) for r in graded) / len(graded) if graded else None,
        tokens_from=sources.pop() if len(sources) == 1 else ("mixed" if sources else "none"),
    )
    if slo:
        good = [r for r in ok if meets_slo(r, slo)]
        summary.goodput = len(good) / dur
        if graded:
            summary.correct_goodput = sum(bool(r.correct) for r in good) / dur
    elif graded:
        summary.correct_goodput = sum(bool(r.correct) for r in ok) / dur
    return summary


class Saturation(BaseModel):
    """Where throughput stops rising while latency climbs."""

    at: float | None = Field(description="Concurrency (or rate) past which it saturates.")
    reason: str


def find_saturation(
    points: Sequence[tuple[float, float, float]], min_gain: float = 0.05
) -> Saturation:
    """Saturation from (load, throughput, latency) points, e.g. (concurrency, req/s, p50 E2E).

    The stack saturates at the first load level after which the next level gains less
    than `min_gain` (5% by default) in throughput while its latency is higher.
    """
    ordered = sorted(points)
    for (x0, t0, l0), (x1, t1, l1) in itertools.pairwise(ordered):
        gain = (t1 - t0) / t0 if t0 > 0 else float("inf")
        if gain < min_gain and l1 > l0:
            return Saturation(
                at=x0, reason=f"{x0:g} -> {x1:g}: throughput {gain:+.1%}, "
                f"latency {l0 * 1000:.0f} -> {l1 * 1000:.0f} ms",
            )
    if len(ordered) < 2:
        return Saturation(at=None, reason="needs at least two load levels")
    last = ordered[-1][0]
    return Saturation(at=None, reason=f"throughput still rising at {last:g} (not reached)")
