"""`engine: openai`: a hosted OpenAI-compatible API, reached at the recipe's `engine_url`."""

from __future__ import annotations

from workbench.stacks.engines.base import EngineAdapter, EngineProcess, LaunchContext
from workbench.stacks.recipe import Stack


class HostedAdapter(EngineAdapter):
    """A hosted OpenAI-compatible endpoint: nothing is started for the engine; `up` starts
    the stack's RAG service in front of it."""

    kind = "openai"
    hosted = True
    #: A hosted API serves many models and routes by the request's `model`.
    routes_by_model_name = True
    identity_source = "/v1/models"

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """None: the engine runs elsewhere."""
        return None

    def health_path(self, stack: Stack) -> str | None:
        """No engine health to poll here: a hosted API may not expose one."""
        return None


ADAPTER = HostedAdapter()
