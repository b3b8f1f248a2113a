"""Bad input is 422 naming the field; engine failures are 502/504 or an SSE `error` event."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from tests.conftest import free_port
from tests.rag.conftest import CORPUS, LiveServer, closed_port_url, make_stack
from workbench.rag.service import create_app
from workbench.records.rag import ErrorBody
from workbench.stacks.process import alive
from workbench.stacks.recipe import Generation

pytestmark = pytest.mark.usefixtures("embedder_loaded")


async def _client(engine_url: str, data_dir: Path, **gen: float) -> httpx.AsyncClient:
    generation = Generation(max_tokens=32, **gen)  # type: ignore[arg-type]
    app = create_app(
        make_stack(engine_url, generation=generation), data_dir, qdrant_location=":memory:"
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rag")
    r = await client.post("/index", json={"space_id": "demo", "passages": CORPUS})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture
async def dead_engine(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A service whose engine port has nothing listening."""
    client = await _client(closed_port_url(), data_dir)
    try:
        yield client
    finally:
        await client.aclose()


def _names_field(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert field in body["error"]["message"], body
    assert any(field in [str(p) for p in d["loc"]] for d in body["detail"]), body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 4001}, "q"),
        ({"space_id": "demo"}, "q"),
        ({"q": "hi", "space_id": "demo", "top_k": 0}, "top_k"),
        ({"q": "hi", "space_id": "demo", "top_k": 51}, "top_k"),
        ({"q": "hi", "space_id": "nope"}, "space_id"),
        ({"q": "hi", "space_id": "demo", "mode": "fuzzy"}, "mode"),
        ({"q": "hi", "space_id": "demo", "max_tokens": 2040}, "max_tokens"),
        ({"q": "ж" * 3000, "space_id": "demo"}, "q"),  # fits the field, not the context
        ({"q": "hi", "space_id": "demo", "bogus": 1}, "bogus"),
    ],
)
@pytest.mark.parametrize("path", ["/ask", "/ask/stream"])
async def test_bad_ask_is_422_naming_the_field(
    dead_engine: httpx.AsyncClient, path: str, payload: dict[str, object], field: str
) -> None:
    _names_field(await dead_engine.post(path, json=payload), field)


async def test_malformed_json_is_422(dead_engine: httpx.AsyncClient) -> None:
    r = await dead_engine.post(
        "/ask", content=b'{"q": "hi",', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "json" in r.json()["error"]["message"].lower()


async def test_bad_search_and_index(dead_engine: httpx.AsyncClient) -> None:
    _names_field(
        await dead_engine.get("/search", params={"q": "x", "space_id": "nope"}), "space_id"
    )
    _names_field(await dead_engine.get("/search", params={"q": "x", "top_k": 99}), "top_k")
    _names_field(
        await dead_engine.post("/index", json={"space_id": "a b", "passages": CORPUS}), "space_id"
    )
    dup = {"space_id": "d", "passages": [CORPUS[0], CORPUS[0]]}
    _names_field(await dead_engine.post("/index", json=dup), "id")


@pytest.mark.parametrize("path", ["/ask", "/ask/stream"])
async def test_unreachable_engine_is_502(dead_engine: httpx.AsyncClient, path: str) -> None:
    r = await dead_engine.post(
        path, json={"q": "How tall is the Eiffel Tower?", "space_id": "demo"}
    )
    assert r.status_code == 502, r.text
    assert ErrorBody.model_validate(r.json()).error.type == "engine_error"


async def test_health_degraded_when_engine_down(dead_engine: httpx.AsyncClient) -> None:
    body = (await dead_engine.get("/health")).json()
    assert body["status"] == "degraded" and body["components"]["engine"]["status"] == "down"
    assert body["components"]["index"]["status"] == "ok"


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An engine URL whose port accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}/v1"


@pytest.mark.parametrize("path", ["/ask", "/ask/stream"])
async def test_engine_timeout_is_504(black_hole: str, data_dir: Path, path: str) -> None:
    client = await _client(black_hole, data_dir, timeout_s=1.0)
    started = time.perf_counter()
    try:
        r = await client.post(path, json={"q": "How tall?", "space_id": "demo"})
    finally:
        await client.aclose()
    assert r.status_code == 504, r.text
    assert ErrorBody.model_validate(r.json()).error.type == "engine_timeout"
    assert time.perf_counter() - started < 10


@pytest.mark.slow
@pytest.mark.llamacpp
def test_engine_dying_mid_stream_is_an_error_event(tmp_path: Path) -> None:
    """A real llama-server killed after the first token: the stream ends with `error`."""
    from workbench.stacks.engines.llamacpp import local_llama_server

    log = tmp_path / "llama-server.log"
    with local_llama_server(log, free_port(), context=2048, slots=1, threads=1) as engine:
        stack = make_stack(engine.url, generation=Generation(max_tokens=800, timeout_s=30))
        with LiveServer(create_app(stack, tmp_path / "idx")) as server:
            httpx.post(
                f"{server.url}/index", json={"space_id": "demo", "passages": CORPUS}, timeout=300
            ).raise_for_status()
            names: list[str] = []
            last: dict[str, object] = {}
            with (
                httpx.Client(timeout=60) as client,
                connect_sse(
                    client,
                    "POST",
                    f"{server.url}/ask/stream",
                    json={
                        "q": "Write a very long, detailed essay about Paris and its history, "
                        "at least five paragraphs.",
                        "space_id": "demo",
                    },
                ) as source,
            ):
                assert source.response.status_code == 200
                for sse in source.iter_sse():
                    names.append(sse.event)
                    last = json.loads(sse.data)
                    if sse.event == "token" and alive(engine.pid):
                        os.killpg(engine.pid, signal.SIGKILL)
        assert names[0] == "sources" and names[-1] == "error", names
        assert ErrorBody.model_validate(last).error.type in {"engine_error", "engine_timeout"}
