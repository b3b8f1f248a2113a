"""Stored manifests of earlier versions, brought up to this one before they are read.

One step per version, in order (as the store's migrations): a stored manifest is never
rewritten in place by reading it; the runner writes the upgraded form back only when it
records something new in the run (a resumed run).

Version 1 is every manifest written before `schema_version` existed: a dict built by hand,
whose keys grew one issue at a time (a run stored before a key existed lacks it, and the
typed manifest leaves that field unset). Runs stored before N-stack runs (two stacks, sides
"A" and "B") keyed every per-stack map by side letter and named no baseline; version 2
keys them by stack name, with side A's stack the baseline, as every newer run does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

#: The version `RunManifest` writes.
SCHEMA_VERSION = 2

#: The manifest keys that map a stack (by side letter in version 1 two-stack runs) to
#: something about it.
PER_STACK = ("stacks", "evalsets", "engine_versions", "models", "served", "prefix_caching",
             "tuning", "engine_builds", "space_ids", "indexes", "engine_metrics", "idle_cpu",
             "resources", "prices")
SIDES = ("A", "B")


def version_of(data: Mapping[str, Any]) -> int:
    """The stored manifest's version (1 when it has none)."""
    found = data.get("schema_version", 1)
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise ValueError(f"schema_version must be a whole number from 1, got {found!r}")
    return found


def side_names(data: Mapping[str, Any]) -> dict[str, str] | None:
    """Side letter -> stack name when the recipes are keyed by side ("A", "B") and each
    names its stack (distinct names); None otherwise."""
    stacks = data.get("stacks")
    if not isinstance(stacks, Mapping) or not stacks or not set(stacks) <= set(SIDES):
        return None
    names = {side: r.get("name") for side, r in stacks.items() if isinstance(r, Mapping)}
    if len(names) != len(stacks) or not all(isinstance(n, str) and n for n in names.values()) \
            or len(set(names.values())) != len(names):
        return None
    return {side: str(name) for side, name in names.items()}


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Re-key a two-sided run's per-stack maps by stack name and name its baseline."""
    rename = side_names(data)
    if rename is None:
        return data
    out = dict(data)
    for key in PER_STACK:
        block = out.get(key)
        if isinstance(block, Mapping):
            out[key] = {rename.get(str(k), k): v for k, v in block.items()}
    traffic = out.get("traffic")
    if isinstance(traffic, list):
        out["traffic"] = [{**t, "stack": rename.get(str(t.get("stack")), t.get("stack"))}
                          if isinstance(t, Mapping) else t for t in traffic]
    base = out.get("baseline")
    if base is None or base in rename:
        out["baseline"] = rename.get(str(base), rename.get("A", next(iter(rename.values()))))
    return out


#: version -> the step that brings a manifest of that version to the next one.
STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored manifest of any earlier version in this version's shape (a new dict; the
    argument is not changed). A newer version's manifest is returned as it is: its keys
    this version does not know are kept by the reader (`RunManifest.extra`)."""
    out = dict(data)
    version = version_of(out)
    while version < SCHEMA_VERSION:
        out = STEPS[version](out)
        version += 1
    out["schema_version"] = max(version, SCHEMA_VERSION)
    return out
