"""Dense (Qdrant), BM25 and hybrid (reciprocal rank fusion) retrieval over one space, with
optional maximal marginal relevance (MMR) re-ranking and doc_type filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workbench.rag.dense import Hit
from workbench.rag.embedder import Vectors
from workbench.rag.index import Space
from workbench.records.rag import RetrievalMode
from workbench.stacks.recipe import Retrieval

__all__ = ["Hit", "Ranked", "bm25_search", "dense_search", "mmr", "retrieve", "rrf"]


@dataclass(frozen=True)
class Ranked:
    """The final list and the per-retriever lists it was fused from."""

    hits: list[Hit]
    dense: list[Hit]
    bm25: list[Hit]


def _mask(space: Space, doc_types: Sequence[str] | None) -> npt.NDArray[np.bool_] | None:
    if not doc_types:
        return None
    wanted = set(doc_types)
    return np.fromiter(
        (t in wanted for t in space.doc_types), dtype=np.bool_, count=len(space.doc_types)
    )


def _top(scores: npt.NDArray[np.floating], n: int, positive_only: bool = False) -> list[Hit]:
    """The `n` best rows by score (ties broken by row for determinism)."""
    if n <= 0 or scores.size == 0:
        return []
    n = min(n, scores.size)
    # argpartition keeps this O(N) at 10k+ chunks; only the n winners get sorted.
    part = np.argpartition(-scores, n - 1)[:n]
    order = part[np.lexsort((part, -scores[part]))]
    hits = [Hit(int(r), float(scores[r])) for r in order if np.isfinite(scores[r])]
    if positive_only:
        hits = [h for h in hits if h.score > 0]
    return hits


def dense_search(
    space: Space, query_vector: Vectors, n: int, doc_types: Sequence[str] | None = None
) -> list[Hit]:
    """Cosine similarity (vectors are unit length) against every chunk of the space, as
    Qdrant computes it; doc_type filters are Qdrant payload filters."""
    return space.dense.search(query_vector, n, doc_types)


def bm25_search(
    space: Space, query: str, n: int, doc_types: Sequence[str] | None = None
) -> list[Hit]:
    """BM25 scores; chunks sharing no term with the query are not candidates."""
    scores = space.bm25.scores(query)
    mask = _mask(space, doc_types)
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    return _top(scores, n, positive_only=True)


def rrf(lists: Sequence[tuple[list[Hit], float]], k: int) -> list[Hit]:
    """Reciprocal rank fusion: score = sum over lists of weight / (k + rank), rank from 1."""
    fused: dict[int, float] = {}
    for hits, weight in lists:
        if weight <= 0:
            continue
        for rank, hit in enumerate(hits, start=1):
            fused[hit.row] = fused.get(hit.row, 0.0) + weight / (k + rank)
    return sorted((Hit(r, s) for r, s in fused.items()), key=lambda h: (-h.score, h.row))


def mmr(space: Space, candidates: list[Hit], top_k: int, lam: float) -> list[Hit]:
    """Maximal marginal relevance: trade relevance (the candidate's score, scaled to [0, 1])
    against similarity to chunks already chosen, so near-duplicates do not fill the context."""
    if len(candidates) <= 1 or top_k <= 0:
        return candidates[:top_k]
    rows = np.asarray([h.row for h in candidates])
    scores = np.asarray([h.score for h in candidates], dtype=np.float64)
    top = float(scores.max())
    relevance = scores / top if top > 0 else np.ones_like(scores)
    vecs = space.vectors[rows]
    sims = vecs @ vecs.T
    chosen: list[int] = []
    left = list(range(len(candidates)))
    while left and len(chosen) < top_k:
        if chosen:
            redundancy = sims[np.ix_(left, chosen)].max(axis=1)
        else:
            redundancy = np.zeros(len(left))
        values = lam * relevance[left] - (1 - lam) * redundancy
        best = left[int(np.argmax(values))]
        chosen.append(best)
        left.remove(best)
    return [candidates[i] for i in chosen]


def retrieve(
    space: Space,
    query: str,
    query_vector: Vectors | None,
    settings: Retrieval,
    mode: RetrievalMode,
    top_k: int,
    doc_types: Sequence[str] | None = None,
) -> Ranked:
    """Rank the space's chunks for `query`; `query_vector` is needed unless mode is bm25."""
    n = max(settings.candidates, top_k)
    dense: list[Hit] = []
    sparse: list[Hit] = []
    if mode in ("dense", "hybrid"):
        if query_vector is None:
            raise ValueError(f"mode {mode} needs a query vector")
        dense = dense_search(space, query_vector, n, doc_types)
    if mode in ("bm25", "hybrid"):
        sparse = bm25_search(space, query, n, doc_types)
    if mode == "hybrid":
        pool = rrf([(dense, settings.dense_weight), (sparse, settings.bm25_weight)], settings.rrf_k)
    else:
        pool = dense if mode == "dense" else sparse
    hits = mmr(space, pool, top_k, settings.mmr_lambda) if settings.mmr else pool[:top_k]
    return Ranked(hits=hits, dense=dense[:top_k], bm25=sparse[:top_k])
