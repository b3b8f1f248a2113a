"""The host's part of a run manifest written at the end of a run session: the load
sampler's summary (`host_load`) and the idle stacks' CPU (`idle_cpu`)."""

from __future__ import annotations

from typing import Any

from workbench.host.idle import merge
from workbench.host.load import LoadSummary


def record_host_load(manifest: dict[str, Any], summary: LoadSummary,
                     idle: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest with this session's load and idle CPU. A resumed run keeps its earlier
    sessions' load summaries (without their series) under `host_load.earlier`, and adds
    the idle CPU of every session together."""
    load = summary.to_dict()
    previous = manifest.get("host_load")
    if isinstance(previous, dict):
        earlier = list(previous.get("earlier") or [])
        earlier.append({k: v for k, v in previous.items() if k not in ("series", "earlier")})
        load["earlier"] = earlier
    return {**manifest, "host_load": load,
            "idle_cpu": merge(manifest.get("idle_cpu"), idle)}
