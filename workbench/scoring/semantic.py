"""Semantic similarity of an answer to its best gold alias (sentence-transformers cosine).

The embedding model is loaded lazily, once per process (`default_embedder`), and every text
is embedded at most once: a batch is deduplicated (golds repeat, and two sides often give
the same answer) and the vectors are kept in a bounded in-memory cache, so re-scoring a
run from the UI or the TUI does not embed again. Texts are cut at 128 word pieces, the
length all-MiniLM-L6-v2 was trained on.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.rag.embedder import PACKAGED_MINILM, resolve_model_path
from workbench.scoring.base import Metric, Sample, Scorer
from workbench.scoring.refusal import is_refusal

#: The model used when none is given: the packaged all-MiniLM-L6-v2 (offline).
DEFAULT_MODEL = PACKAGED_MINILM
_MAX_SEQ_LENGTH = 128


class Embedder:
    """A sentence-transformers model, loaded on first use, with a text -> vector cache."""

    def __init__(self, model: str = DEFAULT_MODEL, *, cache_size: int = 200_000,
                 batch_size: int = 32) -> None:
        self.model_name = model
        # 32, not more: sentence-transformers pads a batch to its longest text, and on
        # this CPU batches of 256 ran at 48 texts/s against 73 for batches of 32.
        self.batch_size = batch_size
        self._cache_size = cache_size
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        # Imported here: torch and sentence-transformers take seconds to import, and only
        # semantic scoring needs them.
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(resolve_model_path(self.model_name), device="cpu")
        model.max_seq_length = min(model.max_seq_length or _MAX_SEQ_LENGTH, _MAX_SEQ_LENGTH)
        return model

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-length embeddings of the texts (rows in order), embedding each new text once."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                if self._model is None:
                    self._model = self._load()
                vectors = self._model.encode(
                    missing, batch_size=self.batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
                for text, vec in zip(missing, vectors, strict=True):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            if not texts:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([self._cache[t] for t in texts])


    def preload(self, texts: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        """Seed the cache with vectors computed earlier by the same model (e.g. kept in the
        store), so a new process re-scores a run without embedding it again."""
        if len(texts) != len(vectors):
            raise ValueError(f"preload: {len(texts)} texts but {len(vectors)} vectors")
        with self._lock:
            for text, vec in zip(texts, vectors, strict=True):
                self._cache[text] = np.asarray(vec, dtype=np.float32)

    def export(self) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Every cached text and its vector (rows in order), for `preload` later."""
        with self._lock:
            texts = list(self._cache)
            if not texts:
                return [], np.zeros((0, 0), dtype=np.float32)
            return texts, np.stack([self._cache[t] for t in texts])


_default: Embedder | None = None


def default_embedder() -> Embedder:
    """The process-wide embedder of `DEFAULT_MODEL` (created on first call)."""
    global _default
    if _default is None:
        _default = Embedder()
    return _default


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
