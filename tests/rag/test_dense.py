"""Dense search through a real Qdrant (qdrant-client local mode; a server when QDRANT_URL
is set): exact ranking on real MiniLM vectors, ties, filters, and refilling old indexes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from workbench.rag.chunking import split_text
from workbench.rag.dense import DISTANCE, QdrantDense, is_server, qdrant_client_for
from workbench.rag.embedder import PACKAGED_MINILM, get_embedder

pytestmark = pytest.mark.usefixtures("embedder_loaded")


def _unit(rows: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    unit: np.ndarray = v / np.linalg.norm(v, axis=1, keepdims=True)
    return unit


def _dense(vectors: np.ndarray, doc_types: list[str | None] | None = None) -> QdrantDense:
    dense = QdrantDense(qdrant_client_for(Path("unused"), ":memory:"), "space_t")
    types = doc_types or [None] * len(vectors)
    dense.write(vectors, [{"doc_type": t} for t in types])
    return dense


def _reference(vectors: np.ndarray, query: np.ndarray, n: int) -> tuple[list[int], np.ndarray]:
    """Exact cosine ranking in float64, (score desc, row asc): what Qdrant must return."""
    scores = vectors.astype(np.float64) @ query.astype(np.float64)
    order = np.lexsort((np.arange(len(scores)), -scores))[:n]
    return [int(r) for r in order], scores


@pytest.mark.slow
def test_ranks_real_embeddings_exactly(shared_evalset: Callable[[str], Path]) -> None:
    """A few thousand chunks of real text with real MiniLM vectors: Qdrant's top 20 is the
    exact cosine ranking. Where two reference scores are closer than float32 can tell
    apart (1e-6), either order is right; every other pair must be in reference order."""
    texts: list[str] = []
    questions: list[str] = []
    for name in ("xquad_en", "xquad_ru"):
        folder = shared_evalset(name)
        with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
            texts += [p for line in f for p in split_text(json.loads(line)["text"], 200, 0)]
        with (folder / "questions.jsonl").open(encoding="utf-8") as f:
            questions += [json.loads(line)["question"] for line in f][:60]
    texts = texts[:2500] + texts[:40]  # 40 exact duplicates: true ties, rows far apart
    assert len(texts) >= 2000
    embedder = get_embedder(PACKAGED_MINILM)
    vectors = embedder.encode(texts, batch_size=64)
    dense = _dense(vectors)
    queries = [*embedder.encode(questions), *vectors[:20]]  # the last 20 tie by design
    near_ties = 0
    for query in queries:
        hits = dense.search(query, 20)
        expected, scores = _reference(vectors, query, 20)
        got = [h.row for h in hits]
        np.testing.assert_allclose([h.score for h in hits], scores[got], atol=1e-5)
        for a, b in zip(got, expected, strict=True):
            if a != b:
                assert abs(scores[a] - scores[b]) < 1e-6, (a, b, scores[a], scores[b])
                near_ties += 1
        # A duplicated text is an exact tie: the lower row comes first.
        for i, row in enumerate(got[:-1]):
            if hits[i].score == hits[i + 1].score:
                assert row < got[i + 1]
    print(f"{len(queries)} queries x top 20 over {len(texts)} chunks: "
          f"{near_ties} positions swapped within 1e-6")


def test_ties_across_the_cut_are_resolved_by_row() -> None:
    """Row 0 and nine copies of it straddle a cut at 5: the five lowest rows win, whatever
    order the engine found them in (local mode's argsort is not stable)."""
    base = _unit(30)
    vectors = base.copy()
    rows = [3, 7, 11, 17, 20, 22, 25, 27, 29]
    vectors[rows] = base[0]
    dense = _dense(vectors)
    hits = dense.search(base[0], 5)
    assert [h.row for h in hits] == [0, *rows[:4]]
    assert len({h.score for h in hits}) == 1
    with_zero = dense.search(base[0], 10)
    assert [h.row for h in with_zero] == sorted([0, *rows])


def test_doc_type_filter_and_short_collections() -> None:
    vectors = _unit(6)
    dense = _dense(vectors, ["a", "b", "a", "b", None, "a"])
    hits = dense.search(vectors[1], 10, ["b"])
    assert hits[0].row == 1 and {h.row for h in hits} == {1, 3}
    assert len(dense.search(vectors[0], 10)) == 6  # fewer points than asked
    assert dense.search(vectors[0], 0) == []


def test_holds_refuses_an_old_cosine_collection() -> None:
    """Indexes from before the DOT change hold a COSINE collection: it must be rewritten."""
    client = QdrantClient(location=":memory:")
    vectors = _unit(4)
    client.create_collection("space_old", vectors_config=models.VectorParams(
        size=16, distance=models.Distance.COSINE))
    client.upsert("space_old", models.Batch(ids=[0, 1, 2, 3], vectors=vectors.tolist()))
    dense = QdrantDense(client, "space_old")
    assert not dense.holds(4, 16)
    dense.write(vectors, [{}] * 4)
    assert dense.holds(4, 16) and not dense.holds(5, 16) and not dense.holds(4, 8)
    info = client.get_collection("space_old").config.params.vectors
    assert isinstance(info, models.VectorParams) and info.distance == DISTANCE


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
def test_local_mode_is_not_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QDRANT_URL", raising=False)
    local = qdrant_client_for(tmp_path)
    assert not is_server(local) and (tmp_path / "qdrant").is_dir()
    local.close()
    assert not is_server(qdrant_client_for(tmp_path, ":memory:"))
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:1")
    assert is_server(qdrant_client_for(tmp_path))  # the client connects lazily


@pytest.mark.skipif(not os.environ.get("QDRANT_URL"),
                    reason="no Qdrant server here (no binary is obtainable on this machine); "
                    "set QDRANT_URL to run dense search against one")
def test_server_ranks_as_local_mode(tmp_path: Path) -> None:
    """The same vectors in a real Qdrant server and in local mode rank alike."""
    vectors = _unit(500, 32, seed=3)
    server = QdrantDense(qdrant_client_for(tmp_path), "space_wb_test")
    server.write(vectors, [{"doc_type": "a" if i % 3 else "b"} for i in range(500)])
    local = _dense(vectors, ["a" if i % 3 else "b" for i in range(500)])
    try:
        for query in _unit(10, 32, seed=4):
            assert [h.row for h in server.search(query, 20)] == \
                [h.row for h in local.search(query, 20)]
            assert [h.row for h in server.search(query, 5, ["b"])] == \
                [h.row for h in local.search(query, 5, ["b"])]
    finally:
        server.client.delete_collection("space_wb_test")
