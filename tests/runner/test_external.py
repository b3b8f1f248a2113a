"""Driving an existing RAG backend (`external` stack) of the seed shape.

The backend here is a FAKE: the users' seed FastAPI backend is their own code and cannot run
here. It is built from the documented contract (DESIGN.md, "Compatibility"):
`POST /ask {"q", "space_id", "top_k", ...}` -> `{"answer", "sources": [{"doc_id",
"chunk_index", "doc_type"}], "context_tokens", "model"}`, `GET /health`, doc ids carrying a
random `_<8 hex>` suffix, and errors reported as HTTP 200 answers starting with a marker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port
from workbench.runner.client import ExternalClient
from workbench.stacks.recipe import ExternalAPI, Ports, Stack


def seed_backend() -> FastAPI:
    app = FastAPI()
    seen: list[dict[str, object]] = []

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ask")
    def ask(body: dict[str, object]) -> dict[str, object]:
        seen.append(body)
        q = str(body["q"])
        if "boom" in q:
            return {"answer": "[vLLM ошибка: connection refused]", "sources": [], "model": "m"}
        return {
            "answer": "Paris",
            "sources": [{"doc_id": "france_3fa2b1c9", "chunk_index": 0, "doc_type": "wiki"},
                        {"doc_id": "spain", "chunk_index": 2, "doc_type": "wiki"}],
            "context_tokens": 42, "model": "qwen",
        }

    app.state.seen = seen
    return app


@pytest.fixture
def backend() -> Iterator[tuple[str, FastAPI]]:
    app = seed_backend()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url, app
    server.should_exit = True
    thread.join(timeout=5)


def stack(url: str) -> Stack:
    return Stack(name="ext", engine="external", launch="none", ports=Ports(rag=8080),
                 external=ExternalAPI(url=url, space_id="docs"))


async def test_answer_sources_and_suffix_stripping(backend: tuple[str, FastAPI]) -> None:
    url, app = backend
    client = ExternalClient(stack(url))
    ans = await client.ask("capital of France?", "ignored")
    await client.aclose()
    assert ans.status == "ok" and ans.answer == "Paris" and ans.model == "qwen"
    assert [s.doc_id for s in ans.sources] == ["france", "spain"]
    assert ans.sources[0].raw_doc_id == "france_3fa2b1c9"
    assert ans.sources[1].chunk_id == "2"
    # Mapped request: the seed's field names, the recipe's space and top_k.
    assert app.state.seen[-1] == {"q": "capital of France?", "space_id": "docs", "top_k": 4}
    assert ans.timing.request_end > ans.timing.request_start


async def test_http_200_error_marker_is_a_failure(backend: tuple[str, FastAPI]) -> None:
    url, _ = backend
    client = ExternalClient(stack(url))
    ans = await client.ask("boom", "docs")
    await client.aclose()
    assert ans.status == "error"
    assert ans.error is not None and "vLLM ошибка" in ans.error


async def test_unreachable_backend_raises_connect_error() -> None:
    client = ExternalClient(stack(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(httpx.ConnectError):
        await client.ask("q", "docs")
    await client.aclose()
