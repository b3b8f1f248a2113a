"""Each engine's own Prometheus counters, read before and after a run: what it says it did.

The engines report some counters per request (llama.cpp's `timings`, vLLM's cached prompt
tokens in `usage`; see `workbench.rag.generation.engine_counters`), but not all: vLLM's
queue time and prefix-cache queries, and llama.cpp's totals, live only in `/metrics`. The
runner reads them once the warm-up is over and again when the run stops, and keeps the
difference per stack in the manifest's `engine_metrics` (a resumed run adds its sessions
together). An engine shared by two stacks of one run counts both stacks' requests; the
entry says which URL it read. Only loopback engines are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from workbench.load.resources import parse_engine_metrics
from workbench.rag.auth import is_loopback
from workbench.records.manifest import RunManifest
from workbench.stacks.engines.registry import all_adapters, find_adapter
from workbench.stacks.recipe import Stack

TIMEOUT_S = 3.0


def metrics_url(stack: Stack) -> str | None:
    """The engine's `/metrics`, or None when it has none we may read."""
    base = stack.engine_base_url
    adapter = find_adapter(stack.engine)
    if base is None or adapter is None or not adapter.run_counter_names:
        return None
    # Loopback only (127.0.0.0/8): an engine on another machine is asked nothing here.
    if not is_loopback(urlsplit(base).hostname or ""):
        return None
    return base.removesuffix("/v1") + "/metrics"


def counters(text: str) -> dict[str, float]:
    """The kept counters of one Prometheus exposition (labelled series summed): each
    engine's `run_counter_names` (names without Prometheus' `_total`)."""
    kept = {name for adapter in all_adapters() for name in adapter.run_counter_names}
    raw = parse_engine_metrics(text)["raw"]
    out: dict[str, float] = {}
    for name, value in raw.items():
        key = name.removesuffix("_total")
        if key in kept:
            out[key] = out.get(key, 0.0) + float(value)
    return out


def scrape(url: str) -> dict[str, float] | None:
    """`GET url` and its kept counters; None when the engine does not answer."""
    try:
        resp = httpx.get(url, timeout=TIMEOUT_S)
    except httpx.HTTPError:
        return None
    return counters(resp.text) if resp.status_code == 200 else None


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """after - before for each counter in both (a counter that went down: the engine
    restarted mid-run, so its `after` alone is what it counted since)."""
    out = {}
    for name, end in after.items():
        if name in before:
            out[name] = end - before[name] if end >= before[name] else end
    return out


@dataclass
class EngineMeter:
    """One stack's engine counters between `start` and `stop`."""

    stack: str
    url: str
    before: dict[str, float] | None = None
    counted: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        """Read the counters now."""
        self.before = scrape(self.url)

    def stop(self) -> None:
        """Read them again; `counted` is the difference (empty when a read failed)."""
        after = scrape(self.url) if self.before is not None else None
        self.counted = delta(self.before or {}, after) if after is not None else {}


def engine_meters(stacks: dict[str, Stack]) -> dict[str, EngineMeter]:
    """Meters for the stacks whose engine exposes `/metrics` we may read."""
    out = {}
    for name, stack in stacks.items():
        url = metrics_url(stack)
        if url is not None:
            out[name] = EngineMeter(name, url)
    return out


def start_all(meters: dict[str, EngineMeter]) -> None:
    """Start every meter (once the warm-up is over)."""
    for m in meters.values():
        m.start()


def stop_all(meters: dict[str, EngineMeter]) -> None:
    """Stop every meter (when the run stops)."""
    for m in meters.values():
        m.stop()


#: What the manifest says of each stack's counters.
NOTE = ("the engine's /metrics counters, after the warm-up to the end of the run (summed "
        "over resumed sessions)")


def record(manifest: RunManifest, meters: dict[str, EngineMeter]) -> RunManifest:
    """The manifest with this session's counter differences added to `engine_metrics`
    (recorded in place; returned for chaining)."""
    if manifest.engine_metrics is None:
        manifest.engine_metrics = {}
    for name, m in meters.items():
        if m.counted:
            manifest.record_engine_metrics(name, m.url, m.counted, NOTE)
    return manifest
