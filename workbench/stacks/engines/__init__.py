"""Engine adapters, one module per engine, looked up by the recipe's `engine:` kind.

`registry` maps engine names to adapters; `base` says what an adapter answers. The names
below are re-exported lazily: the recipe loader imports the registry, and an eager import
of `base` here would import the recipe module back while it loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.stacks.engines.base import (
        EngineAdapter,
        EngineProcess,
        EngineTuning,
        EngineUnavailableError,
        LaunchContext,
    )
    from workbench.stacks.engines.registry import (
        UnknownEngineError,
        adapter_for,
        engine_kinds,
        find_adapter,
        get_adapter,
        register,
        unregister,
    )

_BASE = "workbench.stacks.engines.base"
_REGISTRY = "workbench.stacks.engines.registry"
_EXPORTS = {
    "EngineAdapter": _BASE,
    "EngineProcess": _BASE,
    "EngineTuning": _BASE,
    "EngineUnavailableError": _BASE,
    "LaunchContext": _BASE,
    "UnknownEngineError": _REGISTRY,
    "adapter_for": _REGISTRY,
    "engine_kinds": _REGISTRY,
    "find_adapter": _REGISTRY,
    "get_adapter": _REGISTRY,
    "register": _REGISTRY,
    "unregister": _REGISTRY,
}

__all__ = [
    "EngineAdapter",
    "EngineProcess",
    "EngineTuning",
    "EngineUnavailableError",
    "LaunchContext",
    "UnknownEngineError",
    "adapter_for",
    "engine_kinds",
    "find_adapter",
    "get_adapter",
    "register",
    "unregister",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
