"""Each stack's own summary (not only its paired answers): mean scores, latency
distributions of its successful requests, errors, throughput while it was asked, and 95%
bootstrap CIs of its own F1 and E2E percentiles (the Pareto chart's whiskers)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from workbench.records.responses import ResponseRecord
from workbench.report.limits import quantile_bound
from workbench.report.models import StackSummary
from workbench.scoring.base import Sample, Scorer
from workbench.scoring.latency import LatencyScorer, summarize
from workbench.scoring.stats import PairedBootstrap, is_zero_one, wilson


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else None


def _busy_throughput(records: list[ResponseRecord]) -> float | None:
    """Answers per second of the stack's busy time: completed requests over the union of
    its requests' [start, end] intervals (the time it was being asked, at the run's
    concurrency), so interleaving with other stacks does not dilute it."""
    ok = [r for r in records if r.status == "ok"]
    spans = sorted((r.timing.request_start, r.timing.request_end) for r in records)
    busy, end = 0.0, -math.inf
    for s, e in spans:
        if s > end:
            busy += e - s
            end = e
        elif e > end:
            busy += e - end
            end = e
    return len(ok) / busy if ok and busy > 0 else None


def own_intervals(values: dict[str, np.ndarray], boot: PairedBootstrap
                  ) -> dict[str, list[float | None]]:
    """95% CIs of one stack's own statistics: `f1` (the mean over its answers; BCa, its
    questions resampled, or Wilson's score interval when every answer scores 0 or 1: the
    bootstrap's covered 0.924-0.938 there), `e2e.p50` and `e2e.p95` (over its successful
    requests; the distribution-free order-statistic interval of `report.limits`, as the
    constraints use). An end the data cannot bound is None: a p95's upper bound needs 72 requests
    (the bootstrap's p95 interval covered the true p95 only 0.69-0.76 of the time at n=30
    and 0.93 at n=200, because no resample reaches past the largest value)."""
    out: dict[str, list[float | None]] = {}
    f1 = values.get("f1")
    if f1 is not None and np.isfinite(f1).sum() >= 2:
        x = f1[np.isfinite(f1)]
        if is_zero_one(x):
            # A share of right answers: its score interval (it reaches past the data: 30
            # right of 30 is [0.886, 1]).
            iv = wilson(int((x > 0.5).sum()), x.size, boot.confidence)
            out["f1"] = [iv.low, iv.high]
        else:
            iv = boot.mean(x)  # BCa, as every other CI of the scorecard
            if not math.isnan(iv.low):
                # A mean lies within its data; float32 draws can overshoot it by an ulp.
                out["f1"] = [max(iv.low, float(x.min())), min(iv.high, float(x.max()))]
    e2e = values.get("e2e")
    if e2e is not None and np.isfinite(e2e).sum() >= 2:
        ok = e2e[np.isfinite(e2e)]
        for key, q in (("e2e.p50", 0.50), ("e2e.p95", 0.95)):
            b = quantile_bound(list(ok), q)
            if math.isfinite(b.low) or math.isfinite(b.high):
                out[key] = [b.low if math.isfinite(b.low) else None,
                            b.high if math.isfinite(b.high) else None]
    return out


def stack_summary(stack: str, alias: str, is_base: bool, samples: list[Sample],
             values: dict[str, np.ndarray], scorers: Sequence[Scorer],
             lat: Sequence[LatencyScorer],
             boot: PairedBootstrap | None = None) -> StackSummary:
    """One stack's own summary: its mean scores, its latency distributions (successful
    requests), its errors, its throughput and (given `boot`) the CIs of `own_intervals`."""
    records = [s.response for s in samples]
    failed = [r for r in records if r.status != "ok"]

    def common(attr: str) -> str:
        found = Counter(str(getattr(r, attr)) for r in records).most_common(1)
        return found[0][0] if found else ""

    by_section: dict[str, dict[str, float | None]] = {"quality": {}, "retrieval": {}}
    for sc in scorers:
        by_section[sc.metric.section][sc.metric.key] = _mean(values[sc.metric.key])
    return StackSummary(
        stack=stack, alias=alias, baseline=is_base, model=common("model"),
        engine=common("engine"), responses=len(records), ok=len(records) - len(failed),
        errors=len(failed), error_rate=len(failed) / len(records) if records else None,
        error_kinds=dict(Counter(r.status for r in failed)),
        error_examples=list(dict.fromkeys((r.error or r.status)[:200] for r in failed))[:3],
        quality=by_section["quality"], retrieval=by_section["retrieval"],
        counts={k: int((~np.isnan(v)).sum()) for k, v in values.items()},
        latency={sc.metric.key: summarize(sc.distribution(samples)) for sc in lat},
        throughput=_busy_throughput(records),
        ci=own_intervals(values, boot) if boot is not None else {},
        # Rounded: they travel in the cached card (scores to 1e-4, times to a microsecond).
        values={**{k: [round(float(x), 4) for x in v[np.isfinite(v)]]
                   for k, v in values.items()},
                **{sc.metric.key: [round(v, 6) for v in sc(samples) if v is not None]
                   for sc in lat}},
    )
