"""The two kinds of stack: a RAG service of ours in front of an engine, or an external RAG
backend reached by URL (`engine: external`, with an `external:` section).

The launcher, the runner, the load bench, the capacity check and the views ask a stack's
kind what they need to know (does `up` start our RAG service, where is its health, does it
stream answers, which client asks it questions) instead of testing its name; the engine
questions of an engine stack go to its engine adapter (`workbench.stacks.engines`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from workbench.stacks.recipe import Stack

#: Which runner client asks the stack questions (`workbench.runner.client.client_for`): our
#: RAG service's API, or an API whose request and response fields the recipe maps.
ClientKind = Literal["rag-service", "mapped-api"]


class StackKind(Protocol):
    """What a kind of stack answers."""

    @property
    def name(self) -> str:
        """Its name in messages and records."""
        ...

    @property
    def starts_rag_service(self) -> bool:
        """`up` starts the workbench's RAG service for it (so its RAG port must be free,
        and the service's memory counts)."""
        ...

    @property
    def streams(self) -> bool:
        """It answers through our RAG service's token stream (the arena and the load
        bench's RAG pass need that; an external backend's own stream, if any, is read by
        the runner's external client only)."""
        ...

    @property
    def client_kind(self) -> ClientKind:
        """The runner's client for it."""
        ...

    @property
    def has_engine(self) -> bool:
        """It has an engine of its own (adapter, health, identity, tuning)."""
        ...

    def backend_health_url(self, stack: Stack) -> str | None:
        """The health URL of a backend `up` does not start (None: not one)."""
        ...


@dataclass(frozen=True)
class EngineStack:
    """A RAG service of ours in front of an engine (started here, in compose, or by URL)."""

    name: str = "engine stack"
    starts_rag_service: bool = True
    streams: bool = True
    client_kind: ClientKind = "rag-service"
    has_engine: bool = True

    def backend_health_url(self, stack: Stack) -> str | None:
        """None: `up` starts the RAG service and checks it itself."""
        return None


@dataclass(frozen=True)
class ExternalBackend:
    """A whole RAG backend at a URL (request and response fields mapped by the recipe);
    nothing is started, its health path is checked."""

    name: str = "external backend"
    starts_rag_service: bool = False
    streams: bool = False
    client_kind: ClientKind = "mapped-api"
    has_engine: bool = False

    def backend_health_url(self, stack: Stack) -> str | None:
        """`external.url` + `external.health_path`."""
        if stack.external is None:
            return None
        return stack.rag_url + stack.external.health_path


ENGINE_STACK = EngineStack()
EXTERNAL_BACKEND = ExternalBackend()


def stack_kind(stack: Stack) -> StackKind:
    """The kind of `stack`."""
    return EXTERNAL_BACKEND if stack.is_external else ENGINE_STACK
