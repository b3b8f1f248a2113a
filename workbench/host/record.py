"""The host's part of a run manifest written at the end of a run session: the load
sampler's summary (`host_load`) and the idle stacks' CPU (`idle_cpu`)."""

from __future__ import annotations

from typing import Any

from workbench.host.idle import merge
from workbench.host.load import LoadSummary
from workbench.records.manifest import RunManifest


def record_host_load(manifest: RunManifest, summary: LoadSummary,
                     idle: dict[str, dict[str, Any]]) -> RunManifest:
    """The manifest with this session's load and idle CPU (recorded in place; returned). A
    resumed run keeps its earlier sessions' load summaries (without their series) under
    `host_load.earlier`, and adds the idle CPU of every session together."""
    load = summary.to_dict()
    if manifest.host_load is not None:
        previous = manifest.host_load.model_dump(mode="json", exclude_unset=True)
        earlier = list(previous.get("earlier") or [])
        earlier.append({k: v for k, v in previous.items() if k not in ("series", "earlier")})
        load["earlier"] = earlier
    before = {k: v.model_dump(mode="json", exclude_unset=True)
              for k, v in (manifest.idle_cpu or {}).items()}
    manifest.record_host_load(load, merge(before or None, idle))
    return manifest
