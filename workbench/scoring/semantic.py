"""Semantic similarity of an answer to its best gold alias (sentence-transformers cosine).

The embedder is the RAG service's own class (`workbench.rag.embedder.Embedder`, re-exported
here), with scoring's settings: the torch backend, texts cut at 128 word pieces (the length
all-MiniLM-L6-v2 was trained on; scores stay what they were before the two classes were
merged) and a 200,000-text cache, so every text is embedded at most once: a batch is
deduplicated (golds repeat, and two sides often give the same answer) and re-scoring a run
from the UI or the TUI does not embed again. `default_embedder()` is the process-wide one,
created once under the embedder registry's lock.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.rag.embedder import PACKAGED_MINILM, Embedder, get_embedder
from workbench.scoring.base import Metric, Sample, Scorer
from workbench.scoring.refusal import is_refusal

__all__ = ["DEFAULT_MODEL", "MAX_TOKENS", "Embedder", "SemanticSimilarity",
           "default_embedder", "scoring_embedder", "semantic_similarity"]

#: The model used when none is given: the packaged all-MiniLM-L6-v2 (offline).
DEFAULT_MODEL = PACKAGED_MINILM
#: Word pieces kept per text when scoring.
MAX_TOKENS = 128
_CACHE_SIZE = 200_000


def scoring_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """A new embedder with scoring's settings (torch, 128 tokens, a 200,000-text cache)."""
    return Embedder(model, "torch", max_tokens=MAX_TOKENS, cache_size=_CACHE_SIZE)


def default_embedder() -> Embedder:
    """The process-wide scoring embedder of `DEFAULT_MODEL` (created on first call)."""
    return get_embedder(DEFAULT_MODEL, "torch", max_tokens=MAX_TOKENS, cache_size=_CACHE_SIZE)


class SemanticSimilarity:
    """Cosine similarity between the answer and its closest gold alias."""

    metric = Metric(
        key="semantic",
        label="Semantic similarity",
        section="quality",
        definition="cosine similarity (all-MiniLM-L6-v2 embeddings) between the answer and "
        "its closest gold alias; answerable questions only, errors and refusals score 0",
    )

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        """Score every sample with one batched embedding call."""
        scores: list[float | None] = [None] * len(samples)
        jobs: list[tuple[int, str, list[str]]] = []
        for i, s in enumerate(samples):
            if not s.question.answerable or not s.question.answers:
                continue
            if not s.ok or is_refusal(s.response.answer):
                scores[i] = 0.0
            else:
                jobs.append((i, s.response.answer, s.question.answers))
        if not jobs:
            return scores
        texts = list(dict.fromkeys(t for _, a, golds in jobs for t in (a, *golds)))
        row = {t: n for n, t in enumerate(texts)}
        embedder = self._embedder or default_embedder()
        vectors = embedder.encode(texts)
        for i, answer, golds in jobs:
            sims = vectors[[row[g] for g in golds]] @ vectors[row[answer]]
            scores[i] = float(np.clip(sims.max(), -1.0, 1.0))
        return scores


def semantic_similarity(embedder: Embedder | None = None) -> Scorer:
    """Semantic-similarity scorer (the process-wide default embedder unless one is given)."""
    return SemanticSimilarity(embedder)
