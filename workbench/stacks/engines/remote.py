"""`launch: remote` (or `none`): the engine already runs elsewhere, at the recipe's
`engine_url`; the workbench starts only the stack's RAG service in front of it.

Wraps the engine's own adapter, as compose does: nothing is installed, converted or
started here, but health and version are asked the way that engine answers them (Ollama
`/api/version`, vLLM and llama.cpp and TGI `/health`). What the server really serves is
probed by `workbench.stacks.identity`.
"""

from __future__ import annotations

from workbench.settings import Settings
from workbench.stacks.engines.base import EngineAdapter, EngineProcess, LaunchContext
from workbench.stacks.identity import served_version
from workbench.stacks.recipe import Stack


class RemoteAdapter(EngineAdapter):
    """An engine reached by URL: no process, the wrapped adapter's health and version."""

    kind = "remote"

    def __init__(self, engine: EngineAdapter) -> None:
        self.engine = engine

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Nothing to install here: the engine runs elsewhere."""
        return None

    def prepare(self, stack: Stack, settings: Settings) -> None:
        """No conversion: the remote server loads its own weights."""
        return None

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """None: the engine runs elsewhere."""
        return None

    def health_path(self, stack: Stack) -> str | None:
        """The wrapped engine's health path (None for a hosted OpenAI API)."""
        return self.engine.health_path(stack)

    def ready(self, stack: Stack) -> bool:
        """True: whether the model is listed is the identity probe's question, asked with
        the API key (the wrapped checks ask without one, and a keyed server says 401)."""
        return True

    def version(self, stack: Stack) -> str | None:
        """The version the remote server reports (asked with the API key)."""
        return served_version(stack)
