"""Semantic similarity of an answer to its best gold alias (cosine of MiniLM embeddings).

The embedder is the RAG service's own class (`workbench.rag.embedder.Embedder`, re-exported
here) on the same ONNX Runtime export retrieval uses, with scoring's settings: texts cut at
128 word pieces (the length all-MiniLM-L6-v2 was trained on) and a 200,000-text cache, so
every text is embedded at most once: a batch is deduplicated (golds repeat, and two stacks
often give the same answer) and re-scoring a run from the UI or the TUI does not embed
again. The embedder batches texts by length, so short answers are not padded to long ones.

ONNX, not torch, because it is what a user waits for: 10,000 responses scored about twice
as fast, and no torch import (seconds) before the first report. Its vectors are the
sentence-transformers ones (cosine > 0.9999 per text, checked when the export is made and
by tests/scoring/test_semantic.py on real text), so scores do not move beyond 1e-3. Where
the export cannot be made or loaded, scoring falls back to sentence-transformers on torch,
saying so once. `default_embedder()` is the process-wide one.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

import numpy as np

from workbench.rag.embedder import PACKAGED_MINILM, Backend, Embedder, EmbedderError, get_embedder
from workbench.scoring.base import Metric, Sample, Scorer
from workbench.scoring.refusal import is_refusal

__all__ = ["DEFAULT_MODEL", "MAX_TOKENS", "Embedder", "SemanticSimilarity",
           "default_embedder", "default_embedder_loaded", "scoring_embedder",
           "semantic_similarity"]

#: The model used when none is given: the packaged all-MiniLM-L6-v2 (offline).
DEFAULT_MODEL = PACKAGED_MINILM
#: Word pieces kept per text when scoring.
MAX_TOKENS = 128
_CACHE_SIZE = 200_000


_CHOSEN: list[Backend] = []  # the backend default_embedder settled on, once per process
_CHOOSING = threading.Lock()


def scoring_embedder(model: str = DEFAULT_MODEL, backend: Backend = "onnx") -> Embedder:
    """A new embedder with scoring's settings (ONNX for the packaged MiniLM, torch for any
    other model; 128 tokens; a 200,000-text cache)."""
    return Embedder(model, backend, max_tokens=MAX_TOKENS, cache_size=_CACHE_SIZE)


def default_embedder() -> Embedder:
    """The process-wide scoring embedder of `DEFAULT_MODEL`: ONNX, or torch when the ONNX
    export cannot be loaded here (the first call loads the model to find out)."""
    with _CHOOSING:
        if not _CHOSEN:
            onnx = get_embedder(DEFAULT_MODEL, "onnx", max_tokens=MAX_TOKENS,
                                cache_size=_CACHE_SIZE)
            try:
                onnx.load()
                _CHOSEN.append("onnx")
            except EmbedderError as exc:
                print(f"semantic scoring: {exc}; scoring on sentence-transformers (torch) "
                      "instead", file=sys.stderr)
                _CHOSEN.append("torch")
    return get_embedder(DEFAULT_MODEL, _CHOSEN[0], max_tokens=MAX_TOKENS,
                        cache_size=_CACHE_SIZE)


def default_embedder_loaded() -> bool:
    """Whether the process-wide scoring embedder has loaded its model (without loading it)."""
    return bool(_CHOSEN) and get_embedder(DEFAULT_MODEL, _CHOSEN[0], max_tokens=MAX_TOKENS,
                                          cache_size=_CACHE_SIZE).loaded


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
            elif s.response.answer in s.question.answers:
                # A text's cosine with itself is 1: nothing to embed (a short answer that
                # is the gold is common, ~1 in 7 on the scoring bench).
                scores[i] = 1.0
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
