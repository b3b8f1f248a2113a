"""Resources on the benchmark's timeline, sampled every `interval_s` while a stack is loaded.

Each sample is a (time, kind, data) row: `process` (CPU % and RSS of each watched process
tree, through psutil), `gpu` (memory, utilisation, power per GPU from `nvidia-smi`; skipped
when there is none), `engine` (the engine's own Prometheus `/metrics`: `vllm:*` and
`llamacpp:*` gauges and counters, plus queue depth, running requests and KV-cache use under
common names), and `client` (the generator's send lag and event-loop lag since the last
sample). Times are on the same perf_counter clock as the request timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil
from prometheus_client.parser import text_string_to_metric_families

from workbench.load.http import Endpoint, LoopbackClient
from workbench.stacks.engines.registry import all_adapters


def engine_metric_names() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The engine metric families worth keeping, and common names for what the engines
    expose under their own names: each engine's own facts (`EngineAdapter.metric_prefixes`
    and `load_gauges`), for the engines with gauges for a load bench."""
    prefixes: list[str] = []
    aliases: dict[str, tuple[str, ...]] = {}
    for adapter in all_adapters():
        if adapter.load_gauges:
            prefixes += adapter.metric_prefixes
            for alias, names in adapter.load_gauges.items():
                aliases[alias] = (*aliases.get(alias, ()), *names)
    return tuple(prefixes), aliases


GPU_FIELDS = ("index", "memory.used", "memory.total", "utilization.gpu", "power.draw")

Sink = Callable[[float, str, dict[str, Any]], None]


def parse_engine_metrics(text: str) -> dict[str, Any]:
    """The engines' own samples (`vllm:*`, `llamacpp:*`) from a Prometheus exposition, plus
    common aliases (see `engine_metric_names`).

    Labelled series of one name are summed (e.g. one per model or engine); `_bucket`
    series are dropped.
    """
    prefixes, aliases = engine_metric_names()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            # Histogram buckets are left out: too many rows.
            if not s.name.startswith(prefixes) or s.name.endswith("_bucket"):
                continue
            if math.isfinite(s.value):
                values[s.name] = values.get(s.name, 0.0) + s.value
    out: dict[str, Any] = {"raw": values}
    for alias, names in aliases.items():
        found = next((values[n] for n in names if n in values), None)
        if found is not None:
            out[alias] = found
    return out


def parse_nvidia_smi(csv_text: str) -> list[dict[str, float]]:
    """Rows of `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` as numbers."""
    gpus = []
    for line in csv_text.strip().splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(GPU_FIELDS):
            continue
        row: dict[str, float] = {}
        for name, cell in zip(GPU_FIELDS, cells, strict=True):
            with contextlib.suppress(ValueError):
                row[name] = float(cell)
        gpus.append(row)
    return gpus


@dataclass
class ProcessTree:
    """A watched process and its descendants (CPU % needs the same objects across samples)."""

    label: str
    root: psutil.Process
    _known: dict[int, psutil.Process] = field(default_factory=dict)

    def sample(self) -> dict[str, Any]:
        """CPU % (100 = one core) and RSS of the whole tree since the previous sample."""
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return {"label": self.label, "alive": False}
        cpu = rss = 0.0
        for p in procs:
            known = self._known.setdefault(p.pid, p)
            with contextlib.suppress(psutil.Error):
                cpu += known.cpu_percent(None)
                rss += known.memory_info().rss
        return {"label": self.label, "alive": True, "pid": self.root.pid,
                "processes": len(procs), "cpu_percent": cpu, "rss_mb": rss / 2**20}


def process_trees(pids: dict[str, int]) -> list[ProcessTree]:
    """Trees for the given {label: pid}; missing processes are skipped."""
    trees = []
    for label, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            tree = ProcessTree(label, psutil.Process(pid))
            tree.sample()  # primes cpu_percent so the first real sample is meaningful
            trees.append(tree)
    return trees


class ResourceSampler:
    """Samples resources every `interval_s` into `sink(t, kind, data)` until stopped."""

    def __init__(
        self, sink: Sink, *, pids: dict[str, int] | None = None, metrics_url: str | None = None,
        interval_s: float = 0.5, client_lags: list[float] | None = None,
        remote_ok: bool = False,
    ) -> None:
        self.sink = sink
        self.trees = process_trees(pids or {})
        self.interval_s = interval_s
        self.client_lags = client_lags if client_lags is not None else []
        self.nvidia_smi = shutil.which("nvidia-smi")
        self.metrics: tuple[LoopbackClient, str] | None = None
        if metrics_url:
            root, _, path = metrics_url.partition("://")[2].partition("/")
            self.metrics = (LoopbackClient(Endpoint.parse(f"http://{root}",
                                                          remote_ok=remote_ok)), "/" + path)
        self._task: asyncio.Task[None] | None = None
        self._seen_lags = 0

    async def _gpu(self) -> list[dict[str, float]] | None:
        if self.nvidia_smi is None:
            return None
        try:
            proc = await asyncio.create_subprocess_exec(
                self.nvidia_smi, f"--query-gpu={','.join(GPU_FIELDS)}",
                "--format=csv,noheader,nounits",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=5)
        except (OSError, TimeoutError):
            self.nvidia_smi = None  # broken driver: stop asking, skip cleanly
            return None
        return parse_nvidia_smi(out.decode()) if proc.returncode == 0 else None

    async def _engine(self) -> dict[str, Any] | None:
        if self.metrics is None:
            return None
        client, path = self.metrics
        try:
            async with asyncio.timeout(2):
                status, body = await client.get(path)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
        if status != 200:
            return {"error": f"HTTP {status}"}
        return parse_engine_metrics(body.decode("utf-8", "replace"))

    async def sample_once(self, loop_lag_s: float = 0.0) -> None:
        """Take one sample of everything available."""
        now = time.perf_counter()
        for tree in self.trees:
            self.sink(now, "process", tree.sample())
        new_lags = self.client_lags[self._seen_lags:]
        self._seen_lags = len(self.client_lags)
        self.sink(now, "client", {
            "loop_lag_ms": loop_lag_s * 1000.0, "sent": len(new_lags),
            "max_send_lag_ms": max(new_lags, default=0.0) * 1000.0,
        })
        gpu = await self._gpu()
        if gpu:
            self.sink(now, "gpu", {"gpus": gpu})
        engine = await self._engine()
        if engine is not None:
            self.sink(now, "engine", engine)

    async def _loop(self) -> None:
        next_at = time.perf_counter()
        loop_lag = 0.0
        while True:
            await self.sample_once(loop_lag)
            next_at += self.interval_s
            delay = next_at - time.perf_counter()
            if delay < 0:  # sampling itself overran: skip ahead rather than burst
                next_at = time.perf_counter()
                delay = 0.0
            await asyncio.sleep(delay)
            # How late the loop woke us: the event loop's own lag under load.
            loop_lag = max(time.perf_counter() - next_at, 0.0)

    def start(self) -> None:
        """Start sampling in the background (on the running event loop)."""
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop sampling and close the metrics connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.metrics is not None:
            await self.metrics[0].aclose()
