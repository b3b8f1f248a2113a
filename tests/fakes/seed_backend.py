"""A FAKE of the users' seed RAG backend, for driving real runs (runner, TUI).

The seed FastAPI backend is the users' own code and cannot run here; this one is built from
its documented contract (docs/architecture.md, "Compatibility"):
`POST /ask {"q", "space_id", "top_k"}` ->
`{"answer", "sources": [{"doc_id", "chunk_index", "doc_type"}], "model"}` and
`GET /health`, doc ids carrying a random `_<8 hex>` suffix, errors reported as HTTP 200
answers that start with a marker (the real one sends `[vLLM error: ...]` and
`[LLM ошибка: ...]`), and an `X-Process-Time` header in seconds on every response (its
timing middleware writes `f"{elapsed:.3f}"`). It answers "The answer is N." for a question
holding the number N (citing `docN_<hex>`), `[LLM ошибка: ...]` for a question holding
"boom", `[VLLM ERROR: ...]` for "crash" (upper case: markers match in any case), nothing
(no sources) for "nothing", and "Paris" (citing `france_3fa2b1c9` and `spain`) otherwise.

`POST /ask/stream` streams the same answers as server-sent events in the seed's own SSE
style (its `/summarize-stream`: unnamed events whose data has a `type`): `sources`, one
`token` per word, then `done` with the whole answer. Requests are kept in `app.state.seen`.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from tests.conftest import free_port


def seed_answer(q: str) -> dict[str, Any]:
    """What the fake answers to question `q` (the `/ask` body)."""
    if "boom" in q:
        return {"answer": "[LLM ошибка: HTTPConnectionPool(host='ollama', port=11434)]",
                "sources": [], "model": "m"}
    if "crash" in q:
        return {"answer": "[VLLM ERROR: CUDA out of memory]", "sources": [], "model": "m"}
    if "nothing" in q:
        return {"answer": "I do not know.", "sources": [], "model": "qwen"}
    numbers = re.findall(r"\d+", q)
    if numbers:
        n = numbers[0]
        return {"answer": f"The answer is {n}.", "model": "fake-seed", "sources": [
            {"doc_id": f"doc{n}_0a1b2c3d", "chunk_index": 0, "doc_type": "t"}]}
    return {"answer": "Paris", "context_tokens": 42, "model": "qwen", "sources": [
        {"doc_id": "france_3fa2b1c9", "chunk_index": 0, "doc_type": "wiki"},
        {"doc_id": "spain", "chunk_index": 2, "doc_type": "wiki"}]}


def seed_backend(delay_s: float, token_delay_s: float = 0.0, space: str | None = None
                 ) -> FastAPI:
    """The fake backend; each answer takes `delay_s` (streamed: before the first event),
    and each streamed word `token_delay_s` more. With `space`, it holds its documents in
    that space only: asked under another space id it finds nothing and answers from no
    context, with no sources (what the real one did when sent an eval set's space id)."""
    app = FastAPI()
    seen: list[dict[str, object]] = []
    app.state.seen = seen

    @app.middleware("http")
    async def process_time(request: Request,
                           call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Process-Time"] = f"{time.perf_counter() - start:.3f}"
        return response

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ask")
    async def ask(body: dict[str, object]) -> dict[str, object]:
        seen.append(body)
        await asyncio.sleep(delay_s)
        return answer_for(body)

    def answer_for(body: dict[str, object]) -> dict[str, Any]:
        if space is not None and body.get("space_id") != space:
            return {"answer": "В документах нет ответа.", "sources": [], "model": "qwen"}
        return seed_answer(str(body["q"]))

    @app.post("/ask/stream")
    async def ask_stream(body: dict[str, object]) -> StreamingResponse:
        seen.append(body)
        out = answer_for(body)

        def event(data: dict[str, Any]) -> str:
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        async def events() -> AsyncIterator[str]:
            await asyncio.sleep(delay_s)
            yield event({"type": "sources", "sources": out["sources"]})
            for i, word in enumerate(out["answer"].split(" ")):
                await asyncio.sleep(token_delay_s)
                yield event({"type": "token", "text": word if i == 0 else " " + word})
            yield event({"type": "done", "answer": out["answer"], "model": out["model"]})

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def free_port_on(host: str) -> int:
    """A TCP port free on `host` (a loopback alias such as 127.0.0.2) right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def seed_server(delay_s: float = 0.0, app: FastAPI | None = None,
                host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the fake backend (or `app`) on a free port of `host` (127.0.0.2 or 127.0.0.3
    stand in for another machine) in a thread; yields its URL."""
    port = free_port() if host == "127.0.0.1" else free_port_on(host)
    server = uvicorn.Server(uvicorn.Config(app or seed_backend(delay_s), host=host,
                                           port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://{host}:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def write_external_stack(stacks_dir: Path, name: str, url: str, *, stream: bool = False,
                         space_id: str | None = None, extra: str = "") -> None:
    """An `external` stack recipe pointing at `url` (the shipped external.yaml's mapping);
    `stream` asks `/ask/stream`, `space_id` sets `external.space_id`, `extra` adds recipe
    lines at the top level."""
    port = int(url.rsplit(":", 1)[1])
    (stacks_dir / f"{name}.yaml").write_text(
        f"name: {name}\nengine: external\nlaunch: none\n{extra}ports:\n  rag: {port}\n"
        f"external:\n  url: {url}\n  ask_path: /ask\n  health_path: /health\n"
        f"  stream: {'true' if stream else 'false'}\n"
        + (f"  space_id: {space_id}\n" if space_id else "") +
        "  request_map: {question: q, top_k: top_k, space_id: space_id}\n"
        "  response_map: {answer: answer, sources: sources, doc_id: doc_id,"
        " chunk_id: chunk_index, model: model}\n"
        '  doc_id_suffix: "_[0-9a-f]{8}$"\n'
    )


def write_number_evalset(folder: Path, n: int = 3) -> Path:
    """An eval set the fake answers right: questions "what is N?" with gold passage docN
    (the fake cites `docN_<hex>`), in `folder` (its name is the eval set's space id)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"id": f"doc{i}", "title": f"t{i}", "text": f"The number is {i}."}) + "\n"
        for i in range(1, n + 1)))
    (folder / "questions.jsonl").write_text("".join(
        json.dumps({"id": f"q{i}", "question": f"what is {i}?", "answers": [str(i)],
                    "gold_doc_ids": [f"doc{i}"], "answerable": True, "lang": "en"}) + "\n"
        for i in range(1, n + 1)))
    return folder
