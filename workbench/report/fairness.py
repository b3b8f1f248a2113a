"""Fairness checks on a run manifest: a comparison is fair only when every stack shares the
questions, retrieval settings, prompt, sampling, max tokens and context window with the
baseline (docs/architecture.md, "Measuring honestly"). These checks say, in words, where a candidate
differs from the baseline. The model and the engine are what is being chosen, so they may
differ; everything around them may not. Models are compared by the sha256 the manifest
records: two stacks that name the same model must serve the same weights, and a stack whose
weights have no recorded digest is said to be unproven.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.records.manifest import ManifestLike, RunManifest

# (dotted path in a `Stack.model_dump()`, what it is in the user's words)
_SETTINGS: tuple[tuple[str, str], ...] = (
    ("generation.prompt", "prompt template"),
    ("generation.temperature", "temperature"),
    ("generation.top_p", "top_p"),
    ("generation.seed", "sampling seed"),
    ("generation.max_tokens", "max tokens"),
    ("generation.context_window", "context window"),
    ("retrieval.top_k", "retrieval top_k"),
    ("retrieval.mode", "retrieval mode"),
    ("retrieval.embedding_model", "embedding model"),
    ("retrieval.chunk_size", "chunk size"),
    ("retrieval.chunk_overlap", "chunk overlap"),
    ("retrieval.candidates", "retrieval candidates"),
)
_MISSING = object()


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _evalset(manifest: RunManifest, key: str, recipe: Mapping[str, Any]) -> Any:
    # The eval set may be recorded per stack (evalsets.<name>) or in the stack's own entry.
    if manifest.evalsets is not None and key in manifest.evalsets:
        return manifest.evalsets[key]
    for path in ("evalset", "eval_set"):
        value = _get(recipe, path)
        if value is not _MISSING:
            return value
    return _MISSING


Recipes = list[tuple[str, str, dict[str, Any]]]


def fairness_warnings(manifest: ManifestLike) -> list[str]:
    """Readable warnings where a candidate's recipe differs from the baseline's in what a
    fair comparison must hold equal (each recipe a `Stack.model_dump()`)."""
    m = RunManifest.read(manifest)
    if m.is_empty():
        return ["no run manifest: the stacks' settings could not be checked for fairness"]
    entries = m.recipes()
    if len(entries) < 2:
        return ["the run manifest lacks the stacks' recipes: fairness not checked"]
    (base_key, base_name, base), others = entries[0], entries[1:]
    warnings = []
    for key, name, recipe in others:
        for path, what in _SETTINGS:
            vb, vc = _get(base, path), _get(recipe, path)
            if vb is _MISSING and vc is _MISSING:
                continue
            if vb != vc:
                show = ["(unset)" if v is _MISSING else repr(v) for v in (vb, vc)]
                warnings.append(f"{what} differs: {base_name} {show[0]}, {name} {show[1]} "
                                "(the comparison is not of the engines and models alone)")
        eb, ec = _evalset(m, base_key, base), _evalset(m, key, recipe)
        if eb != ec:
            warnings.append(f"eval set differs: {base_name} {eb!r}, {name} {ec!r} (the stacks "
                            "answered different questions)")
    warnings += _model_warnings(m, entries)
    warnings += _served_warnings(m, entries)
    warnings += _prefix_caching_warnings(m, entries)
    warnings += _tuning_warnings(m)
    for _, name, recipe in entries:
        temperature = _get(recipe, "generation.temperature")
        if isinstance(temperature, int | float) and temperature > 0:
            warnings.append(f"{name} samples at temperature {temperature}: repeated runs "
                            "differ, so small quality differences may be noise")
    indexes = m.indexes
    if indexes is not None and len({v for v in indexes.values() if v}) > 1:
        # Retrieval is part of what each stack answers from: say which index each one used.
        used = ", ".join(f"{k} {str(v)[:12]}" for k, v in indexes.items() if v)
        warnings.append(f"the stacks searched different indexes ({used}): their retrieval "
                        "settings or embedders differ")
    if m.schedule == "parallel":
        warnings.append("parallel schedule: the stacks ran at once and disturbed each "
                        "other's latency")
    return warnings


def _model_warnings(manifest: RunManifest, entries: Recipes) -> list[str]:
    """Model identity: unproven digests, and one model name serving different weights."""
    models = manifest.models
    if models is None:
        return []  # runs stored before manifests recorded models
    warnings = []
    ids: list[tuple[str, str, str | None]] = []  # (stack, model as named, sha256)
    for key, name, recipe in entries:
        entry = models.get(key)
        sha = (entry.sha256 if entry else None) or None
        named = (entry.registry if entry else None) or _get(recipe, "model.name")
        if sha is None:
            why = (entry.note if entry else None) or "no model digest recorded"
            warnings.append(f"{name}: model identity cannot be proven ({why})")
        ids.append((name, str(named) if named is not _MISSING else "", sha))
    (base, base_model, base_sha), others = ids[0], ids[1:]
    for name, model, sha in others:
        if base_sha and sha and base_sha != sha and model == base_model:
            warnings.append(f"{base} and {name} both serve {model!r} but different weights "
                            f"(sha256 {base_sha[:12]}... vs {sha[:12]}...)")
    return warnings


def _prefix_caching_warnings(manifest: RunManifest, entries: Recipes) -> list[str]:
    """Stacks whose engines differ in reusing cached prompt prefixes (the manifest's
    `prefix_caching`: on, off or unknown, per stack), which moves TTFT by itself."""
    recorded = manifest.prefix_caching
    if recorded is None:
        return []  # runs stored before the manifest recorded it
    states: list[tuple[str, str]] = []
    for key, name, _ in entries:
        entry = recorded.get(key)
        on = entry.on if entry is not None else None
        states.append((name, "unknown" if on is None else "on" if on else "off"))
    if len({state for _, state in states}) < 2:
        return []
    said = ", ".join(f"{name} {state}" for name, state in states)
    return [f"prefix caching differs: {said} (a cached prompt prefix shortens TTFT by itself; "
            "set generation.prefix_caching alike to compare the engines like for like)"]


def _served_warnings(manifest: RunManifest, entries: Recipes) -> list[str]:
    """Engines that run elsewhere (the manifest's `served`, from stacks.identity): one not
    asked, one that does not list the recipe's model, one serving a shorter context."""
    served = manifest.served
    if served is None:
        return []  # runs stored before the manifest asked remote engines
    warnings = []
    for key, name, _ in entries:
        entry = served.get(key)
        if entry is None:
            continue
        url = entry.url
        if entry.reachable is None:
            warnings.append(f"{name}: the remote engine at {url} was not asked what it serves "
                            "(another host the recipe does not allow: allow_remote)")
            continue
        if not entry.reachable:
            warnings.append(f"{name}: the remote engine at {url} did not answer when the run "
                            "was recorded: what it serves is unknown")
            continue
        models = entry.models or []
        if models and not entry.model_listed:
            warnings.append(f"{name}: the engine at {url} does not list the recipe's model "
                            f"{entry.model_named!r} (it serves {', '.join(models)})")
        for note in entry.notes:
            if "context" in str(note):
                warnings.append(f"{name}: the engine at {url} {note}")
    return warnings


#: The report's line when every stack ran the tuning probe's verified choice (issue #23).
ALL_TUNED = "each engine ran its fastest verified setting on this host"


def _untuned(manifest: RunManifest) -> list[tuple[str, str]] | None:
    """(stack, why) for each stack that did not run a probe-verified setting; None when the
    manifest predates tuning records."""
    recorded = manifest.tuning
    if recorded is None:
        return None
    found = []
    for key, name, _ in manifest.recipes():
        entry = recorded.get(key)
        if entry is None:
            found.append((name, "no engine setting recorded"))
        elif not entry.verified:
            setting = f" ({entry.setting})" if entry.setting else ""
            found.append((name, f"{entry.why or entry.source}{setting}"))
    return found


def tuning_note(manifest: ManifestLike) -> str | None:
    """`ALL_TUNED` when every stack ran its probe-verified fastest setting (the stacks that
    did not are fairness warnings instead); None otherwise."""
    untuned = _untuned(RunManifest.read(manifest))
    return ALL_TUNED if untuned == [] else None


def _tuning_warnings(manifest: RunManifest) -> list[str]:
    """The stacks that did not run their fastest verified setting on this host, and why (a
    remote engine, a recipe that pins a setting, tuning off or not probed yet)."""
    return [f"{name} did not run its fastest verified setting on this host: {why}"
            for name, why in _untuned(manifest) or []]
