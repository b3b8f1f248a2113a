"""Fairness checks on a run manifest: an A/B is fair only when both sides share the
questions, retrieval settings, prompt, sampling, max tokens and context window
(DESIGN.md, "Measuring honestly"). These checks say, in words, where the sides differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _evalset(manifest: Mapping[str, Any], side: str) -> Any:
    # The eval set may be recorded per side (evalsets.A) or in the side's own entry.
    for path in (f"evalsets.{side}", f"stacks.{side}.evalset", f"stacks.{side}.eval_set"):
        value = _get(manifest, path)
        if value is not _MISSING:
            return value
    return _MISSING


def fairness_warnings(manifest: Mapping[str, Any] | None) -> list[str]:
    """Readable warnings where the two sides' recipes (`manifest["stacks"]["A"/"B"]`,
    each a `Stack.model_dump()`) differ in what a fair comparison must hold equal."""
    if not manifest:
        return ["no run manifest: the two sides' settings could not be checked for fairness"]
    a, b = _get(manifest, "stacks.A"), _get(manifest, "stacks.B")
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return ["the run manifest lacks the recipes of stacks A and B: fairness not checked"]
    warnings = []
    for path, name in _SETTINGS:
        va, vb = _get(a, path), _get(b, path)
        if va is _MISSING and vb is _MISSING:
            continue
        if va != vb:
            show = ["(unset)" if v is _MISSING else repr(v) for v in (va, vb)]
            warnings.append(f"{name} differs: A {show[0]}, B {show[1]} "
                            "(the comparison is not of the engines alone)")
    ea, eb = _evalset(manifest, "A"), _evalset(manifest, "B")
    if ea != eb:
        warnings.append(f"eval set differs: A {ea!r}, B {eb!r} (the sides answered different "
                        "questions)")
    for side, recipe in (("A", a), ("B", b)):
        temperature = _get(recipe, "generation.temperature")
        if isinstance(temperature, int | float) and temperature > 0:
            warnings.append(f"side {side} samples at temperature {temperature}: repeated runs "
                            "differ, so small quality differences may be noise")
    if _get(manifest, "schedule") == "parallel":
        warnings.append("parallel schedule: both stacks ran at once and disturbed each "
                        "other's latency")
    return warnings
