"""Retrieval quality on an eval set folder: hit@1, hit@5 and MRR per retrieval mode.

A retrieved chunk counts as a hit for the passage it came from (gold ids are passage ids);
unanswerable questions (no gold passage) are left out, as the eval data README says.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workbench.rag.embedder import get_embedder
from workbench.rag.index import IndexStore, qdrant_client_for
from workbench.rag.retrieval import retrieve
from workbench.rag.schemas import Passage, RetrievalMode
from workbench.stacks.recipe import Retrieval

MODES: tuple[RetrievalMode, ...] = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class Quality:
    """Retrieval scores of one mode over `questions` answerable questions."""

    mode: str
    questions: int
    hit1: float
    hit5: float
    mrr: float


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(folder: Path, retrieval: Retrieval, limit: int | None = None) -> list[Quality]:
    """Index `folder/corpus.jsonl` (in memory) and score every mode on its questions."""
    passages = [
        Passage.model_validate({k: p[k] for k in ("id", "title", "text") if k in p})
        for p in _jsonl(folder / "corpus.jsonl")
    ]
    questions = [q for q in _jsonl(folder / "questions.jsonl") if q.get("gold_doc_ids")]
    questions = questions[:limit] if limit else questions
    embedder = get_embedder(retrieval.embedding_model, retrieval.embedding_backend)
    with tempfile.TemporaryDirectory(prefix="rag-quality-") as tmp:
        store = IndexStore(Path(tmp), retrieval, embedder, qdrant_client_for(Path(tmp), ":memory:"))
        try:
            store.build(folder.name, passages)
            space = store.spaces[folder.name]
        finally:
            store.close()
    texts = [str(q["question"]) for q in questions]
    vectors = embedder.encode(texts, batch_size=64)
    out = []
    for mode in MODES:
        hit1 = hit5 = rr = 0.0
        for q, text, vector in zip(questions, texts, vectors, strict=True):
            gold_ids = q["gold_doc_ids"]
            gold = {str(g) for g in gold_ids} if isinstance(gold_ids, list) else set()
            ranked = retrieve(space, text, vector, retrieval, mode, 10)
            docs: list[str] = []
            for h in ranked.hits:  # passage ranks: a passage's first chunk counts
                doc = space.chunks[h.row].doc_id
                if doc not in docs:
                    docs.append(doc)
            rank = next((i for i, d in enumerate(docs, start=1) if d in gold), None)
            if rank is not None:
                hit1 += rank == 1
                hit5 += rank <= 5
                rr += 1 / rank
        n = max(len(questions), 1)
        out.append(Quality(mode, len(questions), hit1 / n, hit5 / n, rr / n))
    return out
