"""Driving an existing RAG backend (`external` stack) of the seed shape.

The backend is the documented fake in tests/fakes/seed_backend.py (the users' seed backend
is their own code and cannot run here); the malformed ones below are small FastAPI apps
that send what a broken backend sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse

from tests.conftest import free_port
from tests.fakes.seed_backend import seed_backend, seed_server
from workbench.runner.external import (
    ExternalClient,
    error_marker,
    header_timings,
    normalise,
    sent_space_id,
)
from workbench.runner.stack_client import Answer
from workbench.stacks.recipe import ExternalAPI, Ports, Stack


@pytest.fixture
def backend() -> Iterator[tuple[str, FastAPI]]:
    app = seed_backend(0.05, token_delay_s=0.03)
    with seed_server(app=app) as url:
        yield url, app


def stack(url: str, **external: object) -> Stack:
    return Stack(name="ext", engine="external", launch="none", ports=Ports(rag=8080),
                 external=ExternalAPI(url=url, space_id="docs", **external))  # type: ignore[arg-type]


async def ask(st: Stack, question: str) -> Answer:
    client = ExternalClient(st)
    try:
        return await client.ask(question, "evalset-space")
    finally:
        await client.aclose()


async def test_answer_sources_suffix_and_process_time(backend: tuple[str, FastAPI]) -> None:
    url, app = backend
    ans = await ask(stack(url), "capital of France?")
    assert ans.status == "ok" and ans.answer == "Paris" and ans.model == "qwen"
    assert [s.doc_id for s in ans.sources] == ["france", "spain"]
    assert ans.sources[0].raw_doc_id == "france_3fa2b1c9"
    assert ans.sources[1].chunk_id == "2"
    # Mapped request: the seed's field names, the recipe's space and top_k.
    assert app.state.seen[-1] == {"q": "capital of France?", "space_id": "docs", "top_k": 4}
    # Not streamed: no TTFT, E2E only; the backend's X-Process-Time (s) is kept in ms and
    # covers its 50 ms delay.
    assert ans.timing.first_token is None
    assert (ans.server_timings["x_process_time_ms"] or 0.0) >= 50.0
    assert ans.timing.request_end - ans.timing.request_start >= 0.05


async def test_streamed_answer_has_ttft_from_the_stream(backend: tuple[str, FastAPI]) -> None:
    url, app = backend
    ans = await ask(stack(url, stream=True), "what is 42?")
    assert ans.status == "ok", ans.error
    assert ans.answer == "The answer is 42."
    t = ans.timing
    # One token event per word, 30 ms apart: TTFT is the first, well before the last.
    assert len(t.token_times) == 4 and ans.completion_tokens == 4
    assert t.first_token is not None and t.last_token is not None
    assert t.request_start < t.first_token < t.last_token
    assert t.last_token - t.first_token >= 0.08
    assert [s.doc_id for s in ans.sources] == ["doc42"]
    assert "x_process_time_ms" in ans.server_timings
    assert app.state.seen[-1]["space_id"] == "docs"


@pytest.mark.parametrize("stream", [False, True])
async def test_error_answers_in_any_case_and_language_are_errors(
        backend: tuple[str, FastAPI], stream: bool) -> None:
    url, _ = backend
    ru = await ask(stack(url, stream=stream), "boom")
    en = await ask(stack(url, stream=stream), "crash")
    for ans, text in ((ru, "[LLM ошибка"), (en, "[VLLM ERROR")):
        assert ans.status == "error"
        assert text in (ans.error or "") and url in (ans.error or "")


async def test_recipe_markers_extend_the_built_in_ones(backend: tuple[str, FastAPI]) -> None:
    url, _ = backend
    st = stack(url, error_markers=["The answer is 7"])
    assert (await ask(st, "what is 7?")).status == "error"
    assert (await ask(st, "boom")).status == "error"  # built-in kept
    assert (await ask(st, "what is 8?")).status == "ok"


def test_error_marker_matching() -> None:
    assert error_marker("[vLLM error: timeout]") == "[vLLM error"
    assert error_marker("  [llm ОШИБКА: x]") == "[LLM ошибка"
    assert error_marker("[LLM выключена]") == "[LLM выключена"
    assert error_marker("The [LLM error] was fixed") is None  # only a prefix counts
    assert error_marker("Нет данных", ["нет ДАННЫХ"]) == "нет ДАННЫХ"


def test_header_timings() -> None:
    headers = httpx.Headers({"X-Process-Time": "0.412",
                             "Server-Timing": 'llm;dur=380.1;desc="gen", db;dur=4, miss'})
    got = header_timings(headers, ["X-Process-Time", "Server-Timing", "X-Absent"])
    assert got == {"x_process_time_ms": pytest.approx(412.0), "server_timing_llm_ms": 380.1,
                   "server_timing_db_ms": 4.0}
    # A unit in the value or an `-Ms` name means milliseconds; a bare number is seconds.
    assert header_timings(httpx.Headers({"X-Process-Time": "35ms"}),
                          ["X-Process-Time"]) == {"x_process_time_ms": 35.0}
    assert header_timings(httpx.Headers({"X-Process-Time-Ms": "12.5"}),
                          ["X-Process-Time-Ms"]) == {"x_process_time_ms": 12.5}


def test_event_shapes() -> None:
    api = ExternalAPI(url="http://127.0.0.1:1")
    named = normalise("token", '{"text": "Hi"}', 1.0, api, "u")
    typed = normalise("message", '{"type": "token", "text": "Hi"}', 1.0, api, "u")
    chunk = normalise("message", '{"choices": [{"delta": {"content": "Hi"}}]}', 1.0, api, "u")
    for ev in (named, typed, chunk):
        assert ev is not None and ev.kind == "token" and ev.data == {"text": "Hi"}
    done = normalise("message", '{"answer": "A", "sources": []}', 2.0, api, "u")
    assert done is not None and done.kind == "done" and done.data["answer"] == "A"
    end = normalise("message", "[DONE]", 3.0, api, "u")
    assert end is not None and end.kind == "end"
    assert normalise("message", '{"type": "progress", "pct": 5}', 1.0, api, "u") is None
    with pytest.raises(ValueError, match="malformed SSE event from u"):
        normalise("message", "{not json", 1.0, api, "u")


def broken_backend() -> FastAPI:
    """A backend whose answers are broken in the ways a real one can break."""
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ask")
    def ask_json() -> PlainTextResponse:
        return PlainTextResponse('{"answer": "Par', media_type="application/json")

    @app.post("/ask/stream")
    def ask_sse() -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            yield 'data: {"type": "token", "text": "Pa"}\n\n'
            yield "data: {garbage\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.mark.parametrize(("stream", "what"), [(False, "malformed JSON from"),
                                              (True, "malformed SSE event from")])
async def test_malformed_answers_are_stored_errors_naming_the_url(
        stream: bool, what: str) -> None:
    with seed_server(app=broken_backend()) as url:
        ans = await ask(stack(url, stream=stream), "q")
    assert ans.status == "error"
    assert what in (ans.error or "") and url in (ans.error or "")


def test_space_id_sent_is_the_recipes_else_the_evalsets() -> None:
    assert sent_space_id(stack("http://127.0.0.1:1"), "xquad_en") == "docs"
    bare = Stack(name="ext", engine="external", launch="none", ports=Ports(rag=8080),
                 external=ExternalAPI(url="http://127.0.0.1:1"))
    assert sent_space_id(bare, "xquad_en") == "xquad_en"


async def test_unreachable_backend_raises_connect_error() -> None:
    client = ExternalClient(stack(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(httpx.ConnectError):
        await client.ask("q", "docs")
    await client.aclose()
