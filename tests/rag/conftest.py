"""Fixtures for the RAG service: a small bilingual corpus, stacks, a live uvicorn server."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port
from workbench.stacks.recipe import Generation, ModelSpec, Ports, Retrieval, Stack

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL = "smollm2-135m-instruct"

CORPUS: list[dict[str, object]] = [
    {
        "id": "eiffel",
        "title": "Eiffel Tower",
        "doc_type": "wiki",
        "text": "The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It was "
        "designed by the company of Gustave Eiffel and built from 1887 to 1889 as the "
        "entrance to the 1889 World's Fair. It is 330 metres tall.",
    },
    {
        "id": "baikal",
        "title": "Байкал",
        "doc_type": "wiki",
        "text": "Байкал — озеро тектонического происхождения в южной части Восточной Сибири. "
        "Это самое глубокое озеро на планете: его наибольшая глубина 1642 метра. "
        "В озере около 19 % мировых запасов пресной воды.",
    },
    {
        "id": "python",
        "title": "Python",
        "doc_type": "manual",
        "text": "Python is a high-level programming language created by Guido van Rossum and "
        "first released in 1991. Its design emphasises code readability with significant "
        "indentation.",
    },
    {
        "id": "volga",
        "title": "Волга",
        "doc_type": "manual",
        "text": "Волга — река в европейской части России, самая длинная река Европы. Её "
        "длина составляет 3530 километров. Волга впадает в Каспийское море.",
    },
    {
        "id": "honey",
        "title": "Honey",
        "doc_type": "wiki",
        "text": "Honey is a sweet, viscous substance made by honey bees from the nectar of "
        "flowers. Properly sealed honey can remain edible for thousands of years.",
    },
]


def make_stack(
    engine_url: str,
    *,
    retrieval: Retrieval | None = None,
    generation: Generation | None = None,
    name: str = "rag-test",
) -> Stack:
    """A stack whose engine is at `engine_url` (launched elsewhere, so launch `none`)."""
    return Stack(
        name=name,
        engine="llamacpp",
        launch="none",
        model=ModelSpec(name=MODEL),
        ports=Ports(rag=free_port()),
        engine_url=engine_url,
        retrieval=retrieval or Retrieval(chunk_size=200, chunk_overlap=40, top_k=3),
        generation=generation or Generation(max_tokens=32, context_window=2048, timeout_s=60),
    )


def closed_port_url() -> str:
    """An engine URL where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/v1"


class LiveServer:
    """A real uvicorn server for an app, in a thread, on a free port."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def embedder_loaded() -> None:
    """Load the packaged MiniLM once (tens of seconds on a busy 2-core machine)."""
    from workbench.rag.embedder import PACKAGED_MINILM, get_embedder

    get_embedder(PACKAGED_MINILM).model()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty index folder."""
    return tmp_path / "index"
