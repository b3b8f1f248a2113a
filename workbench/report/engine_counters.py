"""The engines' own counters per stack, and what they say about a TTFT gap: the one module
that computes these numbers.

Per request (stored on each `ResponseRecord.engine_counters`): prompt tokens, those served
from the engine's cache, prefill time (llama.cpp's `timings`; vLLM's cached tokens in
`usage`). Per run (the manifest's `engine_metrics`, `/metrics` differences the runner read
after the warm-up and at the end): vLLM's prefix-cache queries and hits, queue and prefill
time; llama.cpp's prompt-token totals. Per-request numbers win where both exist.

A large TTFT gap between a candidate and the baseline is explained in one line when the
counters account for it: a prefix cache serving more of one side's prompt, fewer prompt
tokens, time queued inside the engine, or a faster prefill of the same prompt tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.records.manifest import ManifestLike, RunManifest
from workbench.records.responses import ResponseRecord
from workbench.report.models import EngineCounterTotals, StackSummary
from workbench.stacks.engines.base import COUNTER_TOTALS
from workbench.stacks.engines.registry import all_adapters

#: A TTFT ratio (slower p50 / faster p50) at least this large is worth explaining.
GAP_RATIO = 1.5
#: Cache hit rates this far apart (share of prompt tokens) account for a gap.
CACHE_GAP = 0.2
#: Prompt tokens per request, or prefill speed, this many times apart account for a gap.
FACTOR = 1.5
#: Queue time accounts for a gap when it makes up this share of the TTFT difference.
QUEUE_SHARE = 0.5


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


def _from_metrics(counts: Mapping[str, Any]) -> dict[str, float | None]:
    """Prompt tokens, cached tokens, prefill seconds of uncached tokens and mean queue ms
    from one engine's `/metrics` differences, as the engine whose counters they are reads
    them (`EngineAdapter.counter_totals`: vLLM's, llama.cpp's)."""
    for adapter in all_adapters():
        totals = adapter.counter_totals(counts)
        if totals is not None:
            return totals
    return dict.fromkeys(COUNTER_TOTALS)


def stack_totals(records: list[ResponseRecord], metrics: Mapping[str, Any] | None = None,
                 prefix_caching: bool | None = None) -> EngineCounterTotals | None:
    """One stack's engine counters over its successful answers and its `/metrics`
    differences; None when the engine reported neither."""
    counted = [r.engine_counters for r in records
               if r.status == "ok" and r.engine_counters is not None]
    metric = _from_metrics(metrics) if metrics else {}
    if not counted and not any(v is not None for v in metric.values()):
        return None
    both = [c for c in counted if c.prompt_tokens is not None and c.cached_tokens is not None]
    prompt = sum(c.prompt_tokens or 0 for c in both) if both else None
    cached = sum(c.cached_tokens or 0 for c in both) if both else None
    hit_rate = _ratio(float(cached), float(prompt)) if cached is not None and prompt else None
    timed = [c for c in both if c.prompt_ms]
    prefill = prefill_ms = None
    if timed:
        computed = sum((c.prompt_tokens or 0) - (c.cached_tokens or 0) for c in timed)
        spent_s = sum(c.prompt_ms or 0.0 for c in timed) / 1000
        prefill, prefill_ms = _ratio(float(computed), spent_s), spent_s * 1000 / len(timed)
    elif metric.get("prefill_s") and metric.get("prompt") is not None:
        computed_m = (metric["prompt"] or 0.0) - (metric.get("cached") or 0.0)
        prefill = _ratio(computed_m, metric["prefill_s"])
        per = _ratio(metric["prefill_s"], metric.get("prefills"))
        prefill_ms = per * 1000 if per is not None else None
    queued = [c.queue_ms for c in counted if c.queue_ms is not None]
    queue = sum(queued) / len(queued) if queued else metric.get("queue_ms")
    mean = _ratio(float(prompt), float(len(both))) if both and prompt is not None else None
    if prompt is None and metric.get("prompt") is not None:
        prompt = round(metric["prompt"] or 0)
        metric_cached = metric.get("cached")
        cached = round(metric_cached) if metric_cached is not None else None
        ok = sum(1 for r in records if r.status == "ok")
        mean = _ratio(float(prompt), float(ok))
    if hit_rate is None:
        hit_rate = metric.get("hit_rate")
    source = " + ".join(s for s, used in (("per request", bool(counted)),
                                          ("/metrics", bool(metric))) if used)
    return EngineCounterTotals(
        requests=len(counted), prompt_tokens=prompt, cached_tokens=cached,
        cache_hit_rate=hit_rate,
        prompt_tokens_mean=mean,
        prefill_tok_s=prefill, prefill_ms_mean=prefill_ms, queue_ms_mean=queue,
        prefix_caching=prefix_caching,
        source=source,
    )


def add_engine_counters(summaries: Mapping[str, StackSummary],
                        responses: list[ResponseRecord],
                        manifest: ManifestLike) -> None:
    """Set each stack summary's `engine_counters` from its answers and the manifest."""
    m = RunManifest.read(manifest)
    metrics = m.engine_metrics or {}
    caching = m.prefix_caching or {}
    for name, summary in summaries.items():
        entry = metrics.get(name)
        setting = caching.get(name)
        summary.engine_counters = stack_totals(
            [r for r in responses if r.stack == name],
            entry.counters if entry is not None else None,
            setting.on if setting is not None else None)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _why(fast: str, f: EngineCounterTotals, slow: str, s: EngineCounterTotals,
         ttft_gap_ms: float) -> str | None:
    """What in the counters accounts for `fast` starting sooner than `slow`, or None."""
    if f.cache_hit_rate is not None and s.cache_hit_rate is not None \
            and f.cache_hit_rate - s.cache_hit_rate >= CACHE_GAP:
        return (f"{_pct(f.cache_hit_rate)} of its prompt tokens came from its prefix cache; "
                f"{slow}'s {_pct(s.cache_hit_rate)}")
    if f.prompt_tokens_mean and s.prompt_tokens_mean \
            and s.prompt_tokens_mean >= FACTOR * f.prompt_tokens_mean:
        return (f"it read {f.prompt_tokens_mean:.0f} prompt tokens per request; "
                f"{slow} {s.prompt_tokens_mean:.0f}")
    if s.queue_ms_mean is not None and ttft_gap_ms > 0 \
            and s.queue_ms_mean - (f.queue_ms_mean or 0.0) >= QUEUE_SHARE * ttft_gap_ms:
        return (f"{slow}'s requests waited {s.queue_ms_mean:.0f} ms in its engine's queue; "
                f"its own {f.queue_ms_mean or 0:.0f} ms")
    if f.prefill_ms_mean is not None and s.prefill_ms_mean is not None and ttft_gap_ms > 0 \
            and s.prefill_ms_mean - f.prefill_ms_mean >= QUEUE_SHARE * ttft_gap_ms:
        speeds = (f", {s.prefill_tok_s:,.0f} vs {f.prefill_tok_s:,.0f} tok/s"
                  if s.prefill_tok_s and f.prefill_tok_s else "")
        return (f"{slow}'s engine spent {s.prefill_ms_mean:,.0f} ms per request computing its "
                f"prompt, {fast}'s {f.prefill_ms_mean:,.0f} ms (from cache "
                f"{_pct(s.cache_hit_rate)} vs {_pct(f.cache_hit_rate)}{speeds}): a slower "
                "prefill, not a setting")
    if f.prefill_tok_s and s.prefill_tok_s and f.prefill_tok_s >= FACTOR * s.prefill_tok_s:
        return (f"its engine computed uncached prompt tokens at {f.prefill_tok_s:,.0f} tok/s, "
                f"{slow}'s at {s.prefill_tok_s:,.0f} tok/s (cache {_pct(f.cache_hit_rate)} vs "
                f"{_pct(s.cache_hit_rate)}): a faster prefill, not a setting")
    if s.prefill_ms_mean is not None and ttft_gap_ms > 0 \
            and s.prefill_ms_mean - (f.prefill_ms_mean or 0.0) >= QUEUE_SHARE * ttft_gap_ms:
        rate = f" ({s.prefill_tok_s:,.0f} tok/s)" if s.prefill_tok_s else ""
        return (f"{slow}'s engine spent {s.prefill_ms_mean:,.0f} ms per request computing its "
                f"uncached prompt tokens{rate}; prompt from cache {_pct(s.cache_hit_rate)} "
                f"vs {fast}'s {_pct(f.cache_hit_rate)}: a slower prefill, not a setting")
    return None


def explain_ttft(summaries: Mapping[str, StackSummary], baseline: str) -> list[str]:
    """One line per candidate whose median TTFT is at least `GAP_RATIO` times apart from
    the baseline's and whose engines both reported counters: what accounts for it, or that
    the counters do not."""
    base = summaries.get(baseline)
    if base is None:
        return []
    lines = []
    for name, cand in summaries.items():
        if name == baseline:
            continue
        tb, tc = base.latency.get("ttft"), cand.latency.get("ttft")
        if tb is None or tc is None or not tb.p50 or not tc.p50:
            continue
        ratio = max(tb.p50, tc.p50) / min(tb.p50, tc.p50)
        if ratio < GAP_RATIO:
            continue
        (fast, fs), (slow, ss) = sorted(((name, cand), (baseline, base)),
                                        key=lambda p: p[1].latency["ttft"].p50 or 0.0)
        fc, sc = fs.engine_counters, ss.engine_counters
        if fc is None or sc is None:
            continue
        head = f"{fast}'s TTFT is {ratio:.1f}x lower than {slow}'s"
        gap_ms = ((ss.latency["ttft"].p50 or 0.0) - (fs.latency["ttft"].p50 or 0.0)) * 1000
        why = _why(fast, fc, slow, sc, gap_ms)
        if why is not None:
            lines.append(f"{head}: {why}")
        else:
            lines.append(f"{head}; the engines' counters do not account for it (prompt "
                         f"tokens per request {fc.prompt_tokens_mean or 0:.0f} vs "
                         f"{sc.prompt_tokens_mean or 0:.0f}, from cache "
                         f"{_pct(fc.cache_hit_rate)} vs {_pct(sc.cache_hit_rate)})")
    return lines
