"""Engine adapters, one module per engine, looked up by the recipe's `engine:` kind."""

from __future__ import annotations

from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    EngineUnavailableError,
    LaunchContext,
)
from workbench.stacks.engines.compose import ComposeAdapter
from workbench.stacks.engines.external import ExternalAdapter
from workbench.stacks.engines.llamacpp import LlamaCppAdapter
from workbench.stacks.engines.ollama import OllamaAdapter
from workbench.stacks.engines.remote import RemoteAdapter
from workbench.stacks.engines.tgi import TgiAdapter
from workbench.stacks.engines.vllm import VllmAdapter
from workbench.stacks.recipe import Stack

__all__ = [
    "ADAPTERS",
    "EngineAdapter",
    "EngineProcess",
    "EngineUnavailableError",
    "LaunchContext",
    "RemoteAdapter",
    "UnknownEngineError",
    "adapter_for",
    "get_adapter",
]

#: Adapter per recipe `engine:` kind.
ADAPTERS: dict[str, EngineAdapter] = {
    "llamacpp": LlamaCppAdapter(),
    "vllm": VllmAdapter(),
    "ollama": OllamaAdapter(),
    "tgi": TgiAdapter(),
    "external": ExternalAdapter(),
    "openai": ExternalAdapter(),
}


class UnknownEngineError(KeyError):
    """No adapter for an engine kind; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_adapter(kind: str) -> EngineAdapter:
    """The adapter for an `engine:` kind, or an error listing the known kinds."""
    try:
        return ADAPTERS[kind]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS))
        raise UnknownEngineError(f"no engine adapter for {kind!r}; known: {known}") from None


def adapter_for(stack: Stack) -> EngineAdapter:
    """The adapter that launches `stack`: compose wraps the engine's own adapter, and so
    does an engine that runs elsewhere (`launch: remote`, or `none`: nothing is started)."""
    adapter = get_adapter(stack.engine)
    if stack.launch == "compose":
        return ComposeAdapter(adapter)
    if stack.launch in ("remote", "none") and stack.engine not in ("external", "openai"):
        return RemoteAdapter(adapter)
    return adapter
