"""The two kinds of stack: what the launcher, runner, load bench, views and capacity check
ask a stack's kind instead of testing its engine's name."""

from __future__ import annotations

from workbench.runner.client import RagServiceClient, client_for
from workbench.runner.external import ExternalClient
from workbench.settings import Settings
from workbench.stacks import capacity
from workbench.stacks.engines import adapter_for
from workbench.stacks.engines.base import NO_ENGINE
from workbench.stacks.identity import engine_is_elsewhere
from workbench.stacks.kinds import ENGINE_STACK, EXTERNAL_BACKEND, stack_kind
from workbench.stacks.recipe import get_stack
from workbench.targets import stack_routes


def test_an_external_backend_is_a_kind_of_stack_without_an_engine(settings: Settings) -> None:
    external = get_stack("external", settings.stacks_dir)
    kind = stack_kind(external)
    assert kind is EXTERNAL_BACKEND and not kind.starts_rag_service and not kind.streams
    assert not kind.has_engine and kind.client_kind == "mapped-api"
    assert kind.backend_health_url(external) == "http://127.0.0.1:8080/health"
    assert adapter_for(external) is NO_ENGINE and not engine_is_elsewhere(external)
    assert isinstance(client_for(external), ExternalClient)
    assert [r.part for r in stack_routes(external)] == ["backend"]
    assert capacity.stack_memory(external) == 0  # nothing of ours runs for it


def test_an_engine_stack_starts_our_rag_service(settings: Settings) -> None:
    for name in ("llamacpp-cpu", "vllm-remote", "tgi-remote"):
        stack = get_stack(name, settings.stacks_dir)
        kind = stack_kind(stack)
        assert kind is ENGINE_STACK and kind.starts_rag_service and kind.streams, name
        assert kind.has_engine and kind.backend_health_url(stack) is None, name
        assert isinstance(client_for(stack), RagServiceClient), name
        assert capacity.stack_memory(stack) >= capacity.RAG_SERVICE_BYTES, name
