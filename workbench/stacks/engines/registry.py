"""Engine name -> adapter: the one place that knows which engines exist.

A recipe's `engine:` names an adapter here; everything engine-specific is then asked of
that adapter (`workbench.stacks.engines.base.EngineAdapter`). The shipped engines are
listed by module and loaded when first asked for, so this module imports no adapter: any
module (the recipe loader, capacity, the GPU checks) can ask it at import time without an
import circle through the adapters, which import those modules in turn.

More engines come from one module each, whose `ADAPTER` is an `EngineAdapter`: named in
`WORKBENCH_ENGINES` (comma-separated module names; every process of a run, the RAG
services included, inherits it) or passed to `register` in the process that uses it.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.stacks.engines.base import EngineAdapter
    from workbench.stacks.recipe import Stack

#: The shipped engines: `engine:` name -> the module whose `ADAPTER` serves it.
BUILTIN: dict[str, str] = {
    "ollama": "workbench.stacks.engines.ollama",
    "vllm": "workbench.stacks.engines.vllm",
    "llamacpp": "workbench.stacks.engines.llamacpp",
    "tgi": "workbench.stacks.engines.tgi",
    "openai": "workbench.stacks.engines.hosted",
}
# The shipped engines whose adapter is `hosted` (test_engines checks this against the
# adapters): reading a recipe asks only this, so it loads no adapter module (they import
# httpx, psutil and the settings: about a second here).
_HOSTED_BUILTIN = frozenset({"openai"})
# Wrappers chosen by the recipe's `launch:` (they ask the engine's own adapter the rest),
# and the adapter of a stack without an engine (an external RAG backend).
_COMPOSE = ("workbench.stacks.engines.compose", "ComposeAdapter")
_REMOTE = ("workbench.stacks.engines.remote", "RemoteAdapter")
_NO_ENGINE = ("workbench.stacks.engines.base", "NO_ENGINE")

#: Modules (comma-separated) whose `ADAPTER` adds an engine, in every process of a run.
ENGINES_ENV = "WORKBENCH_ENGINES"

_registered: dict[str, EngineAdapter] = {}
_loaded: dict[str, EngineAdapter] = {}
_plugin_modules: dict[str, str] = {}  # module -> the engine it added


class UnknownEngineError(KeyError):
    """No adapter for an engine kind; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def _load_plugins() -> None:
    for module in (m.strip() for m in os.environ.get(ENGINES_ENV, "").split(",")):
        if module and module not in _plugin_modules:
            try:
                adapter = _load(module)
            except (ImportError, AttributeError) as exc:
                raise UnknownEngineError(
                    f"{ENGINES_ENV}: module {module!r} gives no engine adapter "
                    f"(it needs a module-level ADAPTER): {exc}") from exc
            register(adapter)
            _plugin_modules[module] = adapter.kind


def engine_kinds() -> tuple[str, ...]:
    """Every engine a recipe may name: the shipped ones, then the registered ones."""
    _load_plugins()
    return tuple(dict.fromkeys([*BUILTIN, *_registered]))


def register(adapter: EngineAdapter) -> None:
    """Make `adapter` the engine for recipes whose `engine:` is `adapter.kind`."""
    if not adapter.kind:
        raise ValueError(f"{type(adapter).__name__} has no `kind` (the recipe's engine name)")
    _registered[adapter.kind] = adapter


def unregister(kind: str) -> None:
    """Forget an engine `register` (or `WORKBENCH_ENGINES`) added (tests clean up with it)."""
    _registered.pop(kind, None)
    for module in [m for m, k in _plugin_modules.items() if k == kind]:
        del _plugin_modules[module]


def _load(module: str, name: str = "ADAPTER") -> Any:
    # Loaded on first use (see the module docstring): the adapter module imports the
    # launcher's helpers (models, gpu, capacity, tuning), which import this registry.
    return getattr(importlib.import_module(module), name)


def get_adapter(kind: str) -> EngineAdapter:
    """The adapter for an `engine:` kind, or an error listing the known kinds."""
    _load_plugins()
    if kind in _registered:
        return _registered[kind]
    if kind in BUILTIN:
        if kind not in _loaded:
            _loaded[kind] = _load(BUILTIN[kind])
        return _loaded[kind]
    known = ", ".join(sorted(engine_kinds()))
    raise UnknownEngineError(f"no engine adapter for {kind!r}; known: {known}")


def all_adapters() -> list[EngineAdapter]:
    """Every engine's adapter, in `engine_kinds` order (loads every shipped engine)."""
    return [get_adapter(kind) for kind in engine_kinds()]


def metric_prefixes() -> tuple[str, ...]:
    """The metric family prefixes of every engine (`vllm:`, `llamacpp:`, `tgi_`, ...)."""
    return tuple(dict.fromkeys(p for kind in engine_kinds()
                               for p in get_adapter(kind).metric_prefixes))


def is_hosted(kind: str) -> bool:
    """Whether the engine is a hosted API (`EngineAdapter.hosted`), without loading a
    shipped engine's module."""
    if kind in BUILTIN and kind not in _registered:
        return kind in _HOSTED_BUILTIN
    adapter = find_adapter(kind)
    return adapter is not None and adapter.hosted


def find_adapter(kind: str) -> EngineAdapter | None:
    """The adapter for `kind`, or None for a name no engine answers to (an external
    backend, a record written before an engine was dropped)."""
    try:
        return get_adapter(kind)
    except UnknownEngineError:
        return None


def adapter_for(stack: Stack) -> EngineAdapter:
    """The adapter that launches `stack`: compose wraps the engine's own adapter, and so
    does an engine that runs elsewhere (`launch: remote`, or `none`: nothing is started);
    an external RAG backend has no engine (`NO_ENGINE`)."""
    if stack.is_external:
        no_engine: EngineAdapter = _load(*_NO_ENGINE)
        return no_engine
    adapter = get_adapter(stack.engine)
    if stack.launch == "compose":
        compose: EngineAdapter = _load(*_COMPOSE)(adapter)
        return compose
    if stack.launch in ("remote", "none") and not adapter.hosted:
        remote: EngineAdapter = _load(*_REMOTE)(adapter)
        return remote
    return adapter
