"""A FAKE of the users' seed RAG backend, for driving real runs (runner, TUI).

The seed FastAPI backend is the users' own code and cannot run here; this one is built from
its documented contract (DESIGN.md, "Compatibility"): `POST /ask {"q", "space_id", "top_k"}`
-> `{"answer", "sources": [{"doc_id", "chunk_index", "doc_type"}], "model"}` and
`GET /health`, doc ids carrying a random `_<8 hex>` suffix, and errors reported as HTTP 200
answers that start with a marker. It answers "The answer is N." for a question holding the
number N (citing `docN_<hex>`), an error-marker answer for a question holding "boom", and
"Paris" (citing `france_3fa2b1c9` and `spain`) otherwise. Requests are kept in
`app.state.seen`.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port


def seed_backend(delay_s: float) -> FastAPI:
    """The fake backend; each answer takes `delay_s`."""
    app = FastAPI()
    seen: list[dict[str, object]] = []
    app.state.seen = seen

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ask")
    async def ask(body: dict[str, object]) -> dict[str, object]:
        seen.append(body)
        await asyncio.sleep(delay_s)
        q = str(body["q"])
        if "boom" in q:
            return {"answer": "[vLLM ошибка: connection refused]", "sources": [], "model": "m"}
        numbers = re.findall(r"\d+", q)
        if numbers:
            n = numbers[0]
            return {"answer": f"The answer is {n}.", "model": "fake-seed", "sources": [
                {"doc_id": f"doc{n}_0a1b2c3d", "chunk_index": 0, "doc_type": "t"}]}
        return {"answer": "Paris", "context_tokens": 42, "model": "qwen", "sources": [
            {"doc_id": "france_3fa2b1c9", "chunk_index": 0, "doc_type": "wiki"},
            {"doc_id": "spain", "chunk_index": 2, "doc_type": "wiki"}]}

    return app


@contextmanager
def seed_server(delay_s: float = 0.0, app: FastAPI | None = None) -> Iterator[str]:
    """Serve the fake backend (or `app`) on a free port in a thread; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app or seed_backend(delay_s), host="127.0.0.1",
                                           port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
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


def write_external_stack(stacks_dir: Path, name: str, url: str) -> None:
    """An `external` stack recipe pointing at `url` (the shipped external.yaml's mapping)."""
    port = int(url.rsplit(":", 1)[1])
    (stacks_dir / f"{name}.yaml").write_text(
        f"name: {name}\nengine: external\nlaunch: none\nports:\n  rag: {port}\n"
        f"external:\n  url: {url}\n  ask_path: /ask\n  health_path: /health\n"
        "  request_map: {question: q, top_k: top_k, space_id: space_id}\n"
        "  response_map: {answer: answer, sources: sources, doc_id: doc_id,"
        " chunk_id: chunk_index, model: model}\n"
        '  doc_id_suffix: "_[0-9a-f]{8}$"\n'
    )
