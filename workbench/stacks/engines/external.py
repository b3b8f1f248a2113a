"""Stacks whose engine is not ours to start: an external RAG backend or a hosted endpoint."""

from __future__ import annotations

from workbench.stacks.engines.base import EngineAdapter, EngineProcess, LaunchContext
from workbench.stacks.recipe import Stack


class ExternalAdapter(EngineAdapter):
    """`engine: external` (a whole RAG backend by URL) or `openai`/`tgi` reached by URL.

    Nothing is started for the engine; `up` only checks (external) or starts the RAG
    service in front of the hosted engine (openai).
    """

    kind = "external"

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """None: the engine runs elsewhere."""
        return None

    def health_path(self, stack: Stack) -> str | None:
        """No engine health to poll here: a hosted API may not expose one."""
        return None
