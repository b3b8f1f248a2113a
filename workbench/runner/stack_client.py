"""What every stack client is and answers: the `StackClient` protocol and its `Answer`.

Its own module so the two clients (`client.RagServiceClient` for our RAG service,
`external.ExternalClient` for a backend of the seed shape) and the runner that drives them
share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from workbench.records.responses import EngineCounters, RequestTiming, RetrievedSource, Status
from workbench.stacks.recipe import Stack

#: Errors worth retrying: the request never reached the server.
CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass
class Answer:
    """What a client got back for one question (before it becomes a ResponseRecord)."""

    status: Status
    timing: RequestTiming
    answer: str = ""
    error: str | None = None
    http_status: int | None = None
    sources: list[RetrievedSource] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    server_timings: dict[str, float | None] = field(default_factory=dict)
    model: str = ""
    engine: str = ""
    engine_counters: EngineCounters | None = None


class StackClient(Protocol):
    """Asks one stack questions."""

    stack: Stack
    #: Key of the index `prepare` left the stack on (`shared_index.index_key`), when known.
    index_key: str | None

    async def prepare(self, space_id: str, passages: list[dict[str, Any]]) -> str:
        """Make the stack ready for this corpus (index it); returns a short description."""
        ...

    async def ask(self, question: str, space_id: str) -> Answer:
        """Ask one question; never raises for a failed request (status says so)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
