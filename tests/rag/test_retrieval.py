"""Tokenizer, BM25 (against rank-bm25's own scores), dense search in a real (in-memory)
Qdrant, RRF, MMR, filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.rag.bm25 import BM25Index
from workbench.rag.chunking import Chunk
from workbench.rag.dense import QdrantDense, qdrant_client_for
from workbench.rag.index import Space
from workbench.rag.retrieval import Hit, bm25_search, dense_search, mmr, retrieve, rrf
from workbench.rag.text import is_russian, tokenize
from workbench.stacks.recipe import Retrieval

TEXTS = [
    "The Eiffel Tower is in Paris.",
    "Озеро Байкал — самое глубокое озеро. Ёлки растут у озера.",
    "Paris is the capital of France; Paris has the Louvre.",
    "Python is a programming language.",
    "Волга впадает в Каспийское море.",
]


def _space(doc_types: list[str | None] | None = None) -> Space:
    chunks = [
        Chunk(f"d{i}", 0, t, doc_type=(doc_types or [None] * len(TEXTS))[i])
        for i, t in enumerate(TEXTS)
    ]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(TEXTS), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dense = QdrantDense(qdrant_client_for(Path("unused"), ":memory:"), "space_s")
    dense.write(vectors, [{"doc_type": c.doc_type} for c in chunks])
    return Space("s", "digest", chunks, vectors, BM25Index(TEXTS), passages=len(TEXTS),
                 dense=dense)


def test_tokenizer_is_unicode_aware_and_lowercases() -> None:
    assert tokenize("Озеро БАЙКАЛ, Ёлка; Paris's 1889!") == [
        "озеро",
        "байкал",
        "елка",
        "paris",
        "s",
        "1889",
    ]
    assert is_russian("Какая глубина Байкала?")
    assert not is_russian("How deep is Baikal?")


def test_bm25_scores_match_rank_bm25() -> None:
    index = BM25Index(TEXTS)
    for query in ["paris", "Paris Paris tower", "озеро елки", "nothing here", "Волга море"]:
        expected = index.okapi.get_scores(tokenize(query))
        np.testing.assert_allclose(index.scores(query), expected, rtol=1e-9, atol=1e-12)


def test_bm25_search_finds_russian_and_skips_non_matches() -> None:
    space = _space()
    hits = bm25_search(space, "Где озеро Байкал?", 5)
    assert hits[0].row == 1
    assert all(h.score > 0 for h in hits)
    assert {h.row for h in bm25_search(space, "paris", 5)} == {0, 2}


def test_doc_type_filter() -> None:
    space = _space(["a", "b", "a", "b", "a"])
    assert {h.row for h in bm25_search(space, "paris", 5, ["b"])} == set()
    dense = dense_search(space, space.vectors[1], 5, ["b"])
    assert dense[0].row == 1 and {h.row for h in dense} == {1, 3}


def test_rrf_weights_and_order() -> None:
    a = [Hit(1, 0.9), Hit(2, 0.5)]
    b = [Hit(2, 7.0), Hit(3, 1.0)]
    fused = rrf([(a, 1.0), (b, 1.0)], k=60)
    assert fused[0].row == 2  # in both lists
    assert abs(fused[0].score - (1 / 62 + 1 / 61)) < 1e-12
    only_b = rrf([(a, 0.0), (b, 1.0)], k=60)
    assert [h.row for h in only_b] == [2, 3]


def test_mmr_skips_near_duplicates() -> None:
    space = _space()
    space.vectors[2] = space.vectors[0]  # row 2 duplicates row 0
    cands = [Hit(0, 1.0), Hit(2, 0.99), Hit(3, 0.5)]
    assert [h.row for h in mmr(space, cands, 2, 0.5)] == [0, 3]
    assert [h.row for h in mmr(space, cands, 2, 1.0)] == [0, 2]


def test_retrieve_modes() -> None:
    space = _space()
    settings = Retrieval(candidates=5)
    q = space.vectors[2]
    assert retrieve(space, "paris", q, settings, "dense", 1).hits[0].row == 2
    assert retrieve(space, "python", None, settings, "bm25", 1).hits[0].row == 3
    hybrid = retrieve(space, "paris", q, settings, "hybrid", 3)
    assert hybrid.hits[0].row == 2 and len(hybrid.dense) == 3
    with_mmr = retrieve(space, "paris", q, Retrieval(mmr=True), "hybrid", 2)
    assert len(with_mmr.hits) == 2
