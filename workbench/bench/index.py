"""Index-once benchmark: the time to prepare N stacks on one ~5,000-chunk corpus, each
stack building its own index (`--private-index`, how every run worked before) against
one shared, content-addressed index (`workbench.rag.shared_index`).

Each stack is a real RAG service process (`rag_service`), prepared one after another as a
run prepares them (`RagServiceClient.prepare`, i.e. `POST /index`); the clock starts once
every service has its embedder loaded, so model loading is not counted. The corpus is
`squad2_dev_half` from ../shared/evaldata cut into 160-character chunks (5,113), else
synthetic passages. A run of 2 stacks prepares the first 2 of the 4, so both numbers come
from one pass. "Second run" prepares restarted services on the same state folder: what a
later run on the same corpus costs. Environment: `INDEX_BENCH_STACKS` (default 4).
Tiny (`--tiny`, the smoke test): 2 stacks, the first 40 passages.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from workbench.rag.chunking import chunk_passage
from workbench.runner.client import RagServiceClient
from workbench.settings import PROJECT_ROOT
from workbench.stacks.process import Server, free_port
from workbench.stacks.rag_service import rag_service
from workbench.stacks.recipe import Generation, ModelSpec, Ports, Retrieval, Stack

SHARED = PROJECT_ROOT.parent / "shared" / "evaldata"
RETRIEVAL = Retrieval(chunk_size=160, chunk_overlap=40)
TINY_PASSAGES = 40


def corpus() -> tuple[list[dict[str, Any]], str]:
    """The passages to index and where they came from."""
    path = SHARED / "squad2_dev_half" / "corpus.jsonl"
    if path.is_file():
        with path.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        return [{"id": r["id"], "title": r.get("title"), "text": r["text"]} for r in rows], \
            "squad2_dev_half (../shared/evaldata)"
    texts = [f"Synthetic passage {i} about topic {i % 97}, item {i * 7 % 101}. " * 8
             for i in range(650)]
    return [{"id": f"p{i}", "text": t} for i, t in enumerate(texts)], "synthetic"


def _stack(name: str) -> Stack:
    # /index never talks to the engine: a port nobody listens on is enough.
    return Stack(name=name, engine="llamacpp", launch="none",
                 model=ModelSpec(name="smollm2-135m-instruct"), ports=Ports(rag=free_port()),
                 engine_url=f"http://127.0.0.1:{free_port()}/v1", retrieval=RETRIEVAL,
                 generation=Generation(max_tokens=16))


def _services(work: Path, n: int, private: bool) -> list[tuple[Stack, Server]]:
    out = []
    for i in range(n):
        stack = _stack(f"stack{i}")
        recipe = work / f"{stack.name}-{stack.ports.rag}.json"
        recipe.write_text(stack.model_dump_json())
        out.append((stack, rag_service(
            stack, recipe, work / f"{stack.name}.log", state_dir=work / "state",
            data_dir=work / "state" / "stacks" / stack.name / "index",
            extra_args=["--private-index"] if private else [])))
    return out


def _wait_embedders(stacks: list[Stack], timeout_s: float = 300) -> None:
    # `warm=True` loads each service's embedder in the background: wait for all of them.
    deadline = time.monotonic() + timeout_s
    for stack in stacks:
        while "loaded" not in httpx.get(f"{stack.rag_url}/health", timeout=10).json()[
                "components"]["embedder"]["detail"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{stack.name}: embedder not loaded in {timeout_s:g}s")
            time.sleep(0.2)


async def _prepare_all(stacks: list[Stack], passages: list[dict[str, Any]]) -> list[float]:
    """Seconds since the start at which each stack was ready, in order."""
    marks: list[float] = []
    started = time.perf_counter()
    for stack in stacks:
        client = RagServiceClient(stack, timeout_s=1800)
        try:
            await client.prepare("bench", passages)
        finally:
            await client.aclose()
        marks.append(time.perf_counter() - started)
    return marks


def measure(n: int, private: bool, passages: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Cumulative prepare times of `n` stacks: the first run, then restarted services."""
    result: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="index-bench-") as tmp:
        work = Path(tmp)
        for label in ("first run", "second run"):
            with ExitStack() as running:
                services = _services(work, n, private)
                for _, server in services:
                    running.enter_context(server)
                stacks = [s for s, _ in services]
                _wait_embedders(stacks)
                result[label] = asyncio.run(_prepare_all(stacks, passages))
    return result


def run(tiny: bool = False) -> None:
    """Print the time to prepare 2 and N stacks, private indexes against a shared one."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    n = 2 if tiny else int(os.environ.get("INDEX_BENCH_STACKS", "4"))
    passages, source = corpus()
    if tiny:
        passages, source = passages[:TINY_PASSAGES], f"{source}, first {TINY_PASSAGES}"
    chunks = sum(len(chunk_passage(str(p["id"]), str(p["text"]), RETRIEVAL.chunk_size,
                                   RETRIEVAL.chunk_overlap))
                 for p in passages)
    print(f"corpus: {len(passages)} passages, {chunks} chunks from {source} "
          f"(chunk_size {RETRIEVAL.chunk_size}, overlap {RETRIEVAL.chunk_overlap}), "
          f"packaged MiniLM (onnx); stacks prepared one after another", flush=True)
    for private in (True, False):
        how = "own index per stack (before)" if private else "shared index (index once)"
        times = measure(n, private, passages)
        for label, marks in times.items():
            counts = sorted({min(2, n), n})
            cells = ", ".join(f"{k} stacks {marks[k - 1]:.1f} s" for k in counts)
            print(f"{how}, {label}: {cells}", flush=True)
