"""The RAG service end to end: real MiniLM, Qdrant local mode, BM25 and llama.cpp."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from tests.rag.conftest import CORPUS, MODEL, LiveServer, make_stack
from workbench.rag.service import create_app
from workbench.records.rag import AskResponse, HealthResponse, SearchResponse, SourcesEvent
from workbench.stacks.process import exit_status
from workbench.stacks.rag_service import rag_service

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp, pytest.mark.usefixtures("embedder_loaded")]


@pytest.fixture(scope="module")
def live(llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live service on the real engine, with the test corpus indexed as space `demo`."""
    app = create_app(make_stack(llama_server), tmp_path_factory.mktemp("rag") / "index")
    with LiveServer(app) as server:
        r = httpx.post(
            f"{server.url}/index", json={"space_id": "demo", "passages": CORPUS}, timeout=300
        )
        assert r.status_code == 200, r.text
        yield server.url


def test_index_is_reused(live: str) -> None:
    r = httpx.post(f"{live}/index", json={"space_id": "demo", "passages": CORPUS}, timeout=300)
    body = r.json()
    assert r.status_code == 200 and body["reused"] is True and body["passages"] == len(CORPUS)


def test_health_reports_components(live: str) -> None:
    health = HealthResponse.model_validate(httpx.get(f"{live}/health", timeout=10).json())
    assert health.status == "ok", health
    assert set(health.components) == {"index", "embedder", "engine"}
    assert health.spaces["demo"] > 0 and health.model == MODEL and health.engine == "llamacpp"


def test_search_seed_shape_and_lists(live: str) -> None:
    r = httpx.get(
        f"{live}/search",
        params={"q": "How tall is the Eiffel Tower?", "space_id": "demo", "top_k": 2},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    raw = r.json()
    first = raw["results"][0]
    assert first["key"] == f"{first['payload']['doc_id']}#{first['payload']['chunk_index']}"
    assert first["payload"]["doc_id"] == "eiffel" and "text" in first["payload"]
    body = SearchResponse.model_validate(raw)
    assert len(body.results) == 2 and body.dense and body.bm25
    assert body.dense[0].payload["doc_id"] == "eiffel"


def test_search_russian_and_doc_type_filter(live: str) -> None:
    params: dict[str, str | int | list[str]] = {
        "q": "Какая глубина озера Байкал?",
        "space_id": "demo",
        "top_k": 3,
    }
    body = httpx.get(f"{live}/search", params=params, timeout=30).json()
    assert body["results"][0]["payload"]["doc_id"] == "baikal"
    body = httpx.get(
        f"{live}/search", params={**params, "doc_types": ["manual"]}, timeout=30
    ).json()
    assert {h["payload"]["doc_type"] for h in body["results"]} == {"manual"}


def test_ask_answers_with_sources_timings_usage(live: str) -> None:
    r = httpx.post(
        f"{live}/ask",
        json={"q": "How tall is the Eiffel Tower?", "space_id": "demo", "top_k": 2},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    body = AskResponse.model_validate(r.json())
    assert body.answer and body.model == MODEL and body.engine == "llamacpp"
    assert body.sources[0].doc_id == "eiffel" and body.sources[0].chunk_id.startswith("eiffel#")
    t = body.timings
    assert t.embed_ms > 0 and t.retrieve_ms > 0 and t.ttft_ms is not None
    assert 0 < t.ttft_ms <= t.generation_ms <= t.total_ms
    assert body.usage.prompt_tokens and body.usage.completion_tokens
    assert body.context_tokens > 0 and body.prompt_lang == "en"


def test_ask_bm25_mode_skips_embedding(live: str) -> None:
    body = httpx.post(
        f"{live}/ask",
        json={"q": "Волга длина", "space_id": "demo", "mode": "bm25", "max_tokens": 8},
        timeout=120,
    ).json()
    assert body["timings"]["embed_ms"] == 0 and body["sources"][0]["doc_id"] == "volga"
    assert body["prompt_lang"] == "ru" and body["usage"]["completion_tokens"] <= 8


def test_ask_stream_event_sequence(live: str) -> None:
    events: list[tuple[str, dict[str, object]]] = []
    with (
        httpx.Client(timeout=120) as client,
        connect_sse(
            client,
            "POST",
            f"{live}/ask/stream",
            json={"q": "Who created Python?", "space_id": "demo"},
        ) as source,
    ):
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            events.append((sse.event, json.loads(sse.data)))
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done"
    assert set(names[1:-1]) == {"token"} and len(names) > 3
    sources = SourcesEvent.model_validate(events[0][1])
    assert sources.sources[0].doc_id == "python" and sources.timings.retrieve_ms > 0
    done = AskResponse.model_validate(events[-1][1])
    streamed = "".join(str(data["text"]) for name, data in events if name == "token")
    assert done.answer == streamed.strip()
    assert done.usage.completion_tokens and done.timings.ttft_ms


def test_index_survives_restart(llama_server: str, tmp_path: Path) -> None:
    stack = make_stack(llama_server)
    app = create_app(stack, tmp_path / "idx")
    with LiveServer(app) as server:
        assert not httpx.post(
            f"{server.url}/index", json={"space_id": "s", "passages": CORPUS}, timeout=300
        ).json()["reused"]
    app = create_app(stack, tmp_path / "idx")  # same folder, new service: reused from disk
    with LiveServer(app) as server:
        assert httpx.post(
            f"{server.url}/index", json={"space_id": "s", "passages": CORPUS}, timeout=300
        ).json()["reused"]


def test_python_m_workbench_rag_serves_a_json_recipe(llama_server: str, tmp_path: Path) -> None:
    """The launcher's contract: `python -m workbench.rag --recipe stack.json`, started as
    the launcher starts it (`rag_service`), stopped cleanly by SIGTERM."""
    stack = make_stack(llama_server, name="cli-stack")
    recipe = tmp_path / "stack.json"
    recipe.write_text(stack.model_dump_json(), encoding="utf-8")
    service = rag_service(stack, recipe, tmp_path / "rag.log", state_dir=tmp_path / "state",
                          data_dir=tmp_path / "idx", extra_args=["--log-level", "warning"],
                          timeout_s=120)
    with service:
        body = httpx.get(f"{stack.rag_url}/health", timeout=5).json()
        assert body["stack"] == "cli-stack" and body["components"]["index"]["status"] == "degraded"
        assert httpx.get(f"{stack.rag_url}/openapi.json", timeout=5).status_code == 200
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert exit_status(service.pid) in (0, -15), (tmp_path / "rag.log").read_text()[-2000:]
    assert not service.running
