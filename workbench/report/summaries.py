"""Each stack's own summary (not only its paired answers): mean scores, latency
distributions of its successful requests, errors, and throughput while it was asked."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from workbench.report.models import StackSummary
from workbench.scoring.base import Sample, Scorer
from workbench.scoring.latency import LatencyScorer, summarize
from workbench.store.records import ResponseRecord


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


def stack_summary(stack: str, alias: str, is_base: bool, samples: list[Sample],
             values: dict[str, np.ndarray], scorers: Sequence[Scorer],
             lat: Sequence[LatencyScorer]) -> StackSummary:
    """One stack's own summary: its mean scores, its latency distributions (successful
    requests), its errors and its throughput."""
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
    )
