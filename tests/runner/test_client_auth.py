"""The runner's client carries the RAG service's key (WORKBENCH_API_KEY) when one is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rag.conftest import LiveServer, closed_port_url, make_stack
from workbench.rag.service import create_app
from workbench.runner.client import RagServiceClient

KEY = "wb-test-key-0123456789"


async def first_event(client: RagServiceClient) -> tuple[str, dict[str, object]]:
    async for ev in client.stream("What?", "no-such-space"):
        return ev.kind, ev.data
    raise AssertionError("no event")


async def test_client_sends_the_service_key(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    stack = make_stack(closed_port_url())
    app = create_app(stack, tmp_path / "idx", qdrant_location=":memory:", warm=False,
                     api_key=KEY)
    with LiveServer(app) as server:
        placed = stack.with_ports(int(server.url.rsplit(":", 1)[1]), stack.ports.engine)
        monkeypatch.delenv("WORKBENCH_API_KEY", raising=False)
        anonymous = RagServiceClient(placed)
        kind, data = await first_event(anonymous)
        await anonymous.aclose()
        assert (kind, data["http_status"]) == ("error", 401)

        monkeypatch.setenv("WORKBENCH_API_KEY", KEY)
        keyed = RagServiceClient(placed)
        kind, data = await first_event(keyed)
        await keyed.aclose()
        # Past the key check: the unknown space is now what the service objects to.
        assert (kind, data["http_status"]) == ("error", 422)
        assert "space_id" in str(data["error"])
