"""Driving an existing RAG backend (`external` stack) of the seed shape.

The backend is the documented fake in tests/fakes/seed_backend.py (the users' seed backend
is their own code and cannot run here).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import free_port
from tests.fakes.seed_backend import seed_backend, seed_server
from workbench.runner.client import ExternalClient
from workbench.stacks.recipe import ExternalAPI, Ports, Stack


@pytest.fixture
def backend() -> Iterator[tuple[str, FastAPI]]:
    app = seed_backend(0.0)
    with seed_server(app=app) as url:
        yield url, app


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
