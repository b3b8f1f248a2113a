"""Retrieval quality on an eval set: hit@1, hit@5 and MRR per retrieval mode.

The eval set is read by `workbench.evalsets.load_evalset` (a folder, a SQuAD file, a
shipped name), and the numbers are the scorecard's own (`workbench.scoring.retrieval`):
the RAG service's top `TOP_K` chunks in rank order, a chunk counting for the passage it
came from, a passage counted once (at its best chunk), hit@k over the first k chunks and
MRR over all `TOP_K`. Questions without a gold passage are left out, as the scorecard does.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from workbench.evalsets import load_evalset
from workbench.rag.embedder import get_embedder
from workbench.rag.index import IndexStore, qdrant_client_for
from workbench.rag.retrieval import retrieve
from workbench.records.passage import Passage
from workbench.records.rag import RetrievalMode
from workbench.scoring.retrieval import hit_at_k, reciprocal_rank
from workbench.stacks.recipe import Retrieval

MODES: tuple[RetrievalMode, ...] = ("dense", "bm25", "hybrid")
#: Chunks retrieved per question (what MRR looks at).
TOP_K = 10


@dataclass(frozen=True)
class Quality:
    """Retrieval scores of one mode over `questions` answerable questions."""

    mode: str
    questions: int
    hit1: float
    hit5: float
    mrr: float


def evaluate(ref: str | Path, retrieval: Retrieval, limit: int | None = None) -> list[Quality]:
    """Index the eval set's corpus (Qdrant in memory) and score every mode on its
    answerable questions (the first `limit` of them when given)."""
    evalset = load_evalset(ref)
    passages = [Passage(id=p.id, title=p.title, text=p.text) for p in evalset.passages]
    questions = [q for q in evalset.questions if q.answerable and q.gold_doc_ids]
    questions = questions[:limit] if limit else questions
    embedder = get_embedder(retrieval.embedding_model, retrieval.embedding_backend)
    texts = [q.question for q in questions]
    vectors = embedder.encode(texts, batch_size=64)
    out = []
    with tempfile.TemporaryDirectory(prefix="rag-quality-") as tmp:
        store = IndexStore(Path(tmp), retrieval, embedder, qdrant_client_for(Path(tmp), ":memory:"))
        try:
            store.build(evalset.space_id, passages)
            space = store.spaces[evalset.space_id]
            for mode in MODES:
                hit1 = hit5 = rr = 0.0
                for q, text, vector in zip(questions, texts, vectors, strict=True):
                    ranked = retrieve(space, text, vector, retrieval, mode, TOP_K)
                    doc_ids = [space.chunks[h.row].doc_id for h in ranked.hits]
                    hit1 += hit_at_k(doc_ids, q.gold_doc_ids, 1)
                    hit5 += hit_at_k(doc_ids, q.gold_doc_ids, 5)
                    rr += reciprocal_rank(doc_ids, q.gold_doc_ids)
                n = max(len(questions), 1)
                out.append(Quality(mode, len(questions), hit1 / n, hit5 / n, rr / n))
        finally:
            store.close()  # dense search needs Qdrant open until the last question
    return out
