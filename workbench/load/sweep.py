"""A whole load benchmark: every load point against every stack, stored as it goes.

Schedule: interleaved by point (the first stack at c=1, the second at c=1, the first at
c=2, ...), one stack at a time, so slow drift of a shared machine hits every stack alike and
the stacks never disturb each other (docs/architecture.md "Measuring honestly"). Each stack
gets `warmup` uncounted requests first. While a stack is loaded, a `ResourceSampler`
records its processes, GPU, engine metrics and the client's lag on the same clock; samples
and requests are committed after each point.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.load.client import LoadTarget
from workbench.load.driver import PointRun, run_point
from workbench.load.metrics import PointSummary, Saturation, find_saturation, summarize
from workbench.load.prompts import LoadPrompt
from workbench.load.resources import ResourceSampler
from workbench.records.responses import PointSpec
from workbench.store.load_benches import LoadBenchStore
from workbench.targets import Route


@dataclass
class BenchStack:
    """One stack under load: its engine or RAG service (or a bare URL, stored under its
    label as a stack), the processes sampled beside it and where its traffic goes."""

    name: str
    target: LoadTarget
    pids: dict[str, int] = field(default_factory=dict)
    #: Where its traffic goes (printed before the first request), when known.
    route: Route | None = None


@dataclass
class BenchConfig:
    """How to load every stack."""

    points: list[PointSpec]
    slo: dict[str, float] = field(default_factory=dict)
    warmup: int = 2
    sample_interval_s: float = 0.5
    min_gain: float = 0.05


Progress = Callable[[str], None]


def sweep_points(
    concurrencies: list[int], requests: int | None, *, per_level: int | None = None,
    rate: float = math.inf, burstiness: float = 1.0, seed: int = 0, max_seconds: float = 600.0,
) -> list[PointSpec]:
    """A concurrency sweep: `requests` per level, or `per_level` x concurrency when unset."""
    out = []
    for c in concurrencies:
        n = requests if requests is not None else max(per_level or 8, 1) * c
        out.append(PointSpec(requests=n, concurrency=c, rate=rate, burstiness=burstiness,
                             seed=seed, max_seconds=max_seconds))
    return out


def rate_points(
    rates: list[float], requests: int, *, concurrency: int | None = None,
    burstiness: float = 1.0, seed: int = 0, max_seconds: float = 600.0,
) -> list[PointSpec]:
    """Constant (burstiness inf), Poisson (1) or gamma arrivals at each rate."""
    return [PointSpec(requests=requests, concurrency=concurrency, rate=r, burstiness=burstiness,
                      seed=seed, max_seconds=max_seconds) for r in rates]


def saturation_of(summaries: list[PointSummary], min_gain: float = 0.05) -> Saturation:
    """Where a stack saturates, over its points that vary concurrency (else rate)."""
    by_c = [(float(s.concurrency), s.request_throughput, s.e2e.p50)
            for s in summaries
            if s.concurrency is not None and s.e2e is not None and s.e2e.p50 is not None]
    if len({x for x, _, _ in by_c}) >= 2:
        return find_saturation(by_c, min_gain)
    by_rate = [(s.rate, s.request_throughput, s.e2e.p50)
               for s in summaries
               if s.e2e is not None and s.e2e.p50 is not None and math.isfinite(s.rate)]
    return find_saturation(by_rate, min_gain)


def _ms(seconds: float | None) -> float:
    # Progress lines print milliseconds; summaries hold seconds (nan when not measured).
    return float("nan") if seconds is None else seconds * 1000.0


async def warm_up(stack: BenchStack, prompts: list[LoadPrompt], n: int) -> None:
    """Send `n` uncounted requests."""
    # Uncounted: the first requests pay for cold caches and lazy allocations.
    for i in range(n):
        await stack.target.send(prompts[i % len(prompts)])


async def measure_point(
    store: LoadBenchStore, bench_id: str, stack: BenchStack, position: int, spec: PointSpec,
    prompts: list[LoadPrompt], config: BenchConfig, t0: float,
    extra: Callable[[PointSummary], PointSummary] | None = None,
) -> PointSummary:
    """Run one point on one stack with resources sampled; store it and its requests
    (`extra` may add to the summary before it is stored)."""
    samples: list[tuple[float, str, dict[str, Any]]] = []
    lags: list[float] = []
    sampler = ResourceSampler(
        lambda t, kind, data: samples.append((t, kind, data)), pids=stack.pids,
        metrics_url=stack.target.metrics_url, interval_s=config.sample_interval_s,
        client_lags=lags, remote_ok=bool(getattr(stack.target, "remote_ok", False)),
    )
    sampler.start()
    try:
        run: PointRun = await run_point(stack.target, prompts, spec,
                                        on_record=lambda r: lags.append(r.send_lag_s))
    finally:
        await sampler.stop()
        store.add_samples(bench_id, stack.name, samples, t0)
    summary = summarize(spec, run.records, run.duration_s, config.slo)
    if extra is not None:
        summary = extra(summary)
    store.add_point(bench_id, stack.name, position, spec, summary, run.records, t0)
    return summary


async def run_bench(
    store: LoadBenchStore, stacks: list[BenchStack], prompts: list[LoadPrompt],
    config: BenchConfig, *, target_kind: str, meta: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> str:
    """Run every point on every stack; returns the stored benchmark's id."""
    say = progress or (lambda _msg: None)
    bench_config = {
        "points": [p.model_dump(mode="json") for p in config.points],
        "slo_ms": {k: v * 1000 for k, v in config.slo.items()}, "warmup": config.warmup,
        "sample_interval_s": config.sample_interval_s, "prompts": len(prompts),
        "schedule": "interleaved by point, one stack at a time", **(meta or {}),
    }
    bench_id = store.create_bench(target=target_kind, stacks=[s.name for s in stacks],
                                  config=bench_config)
    t0 = time.perf_counter()
    summaries: dict[str, list[PointSummary]] = {s.name: [] for s in stacks}
    status = "failed"
    try:
        for stack in stacks:
            say(f"{stack.name}: {config.warmup} warm-up request(s)")
            await warm_up(stack, prompts, config.warmup)
        for position, spec in enumerate(config.points):
            for stack in stacks:
                s = await measure_point(store, bench_id, stack, position, spec, prompts, config,
                                        t0)
                summaries[stack.name].append(s)
                say(f"{stack.name} {spec.label}: {s.completed}/{s.requests} ok, "
                    f"{s.request_throughput:.2f} req/s, {s.output_throughput:.1f} tok/s, "
                    f"TTFT p50 {_ms(s.ttft.p50 if s.ttft else None):.0f} ms")
        status = "completed"
    except BaseException as exc:
        status = "cancelled" if isinstance(exc, KeyboardInterrupt | TimeoutError) else "failed"
        raise
    finally:
        result = {name: saturation_of(sums, config.min_gain).model_dump()
                  for name, sums in summaries.items()}
        store.finish_bench(bench_id, status, {"saturation": result})
        for stack in stacks:
            await stack.target.aclose()
    return bench_id
