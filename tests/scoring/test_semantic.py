"""Semantic similarity with the real packaged all-MiniLM-L6-v2 embedder (CPU, offline)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.rag.embedder import Embedder as RagEmbedder
from workbench.rag.embedder import resolve_model_path
from workbench.scoring import Embedder, default_embedder, semantic_similarity
from workbench.scoring.base import Sample
from workbench.scoring.semantic import DEFAULT_MODEL, MAX_TOKENS, scoring_embedder

LONG = "The river runs through the old city and past the harbour walls. " * 30


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return scoring_embedder()


def test_one_class_for_retrieval_and_scoring() -> None:
    assert Embedder is RagEmbedder
    shared = default_embedder()
    assert shared is default_embedder()  # one per process
    assert (shared.backend, shared.max_tokens, shared.model_name) == ("torch", 128,
                                                                      DEFAULT_MODEL)


def test_vectors_are_what_scoring_computed_before_the_merge(embedder: Embedder) -> None:
    """The old scoring path: sentence-transformers, max_seq_length 128, one encode call.
    The shared class must give the same vectors, so stored scores do not move."""
    from sentence_transformers import SentenceTransformer

    texts = ["The Eiffel Tower is in Paris", "Кто основал компанию?", LONG, "ok"]
    old = SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")
    old.max_seq_length = MAX_TOKENS
    expected = old.encode(texts, batch_size=32, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False)
    np.testing.assert_allclose(embedder.encode(texts), expected, atol=1e-6)
    # The truncation setting is real: at the model's own 256 the long text differs.
    full = RagEmbedder(DEFAULT_MODEL, "torch").encode([LONG])[0]
    assert float(full @ expected[2]) < 0.9999


def test_paraphrase_scores_above_unrelated(embedder: Embedder) -> None:
    q = question("q", ["The Eiffel Tower is in Paris"])
    answers = ["The Eiffel Tower is in Paris", "It stands in Paris, France.",
               "Bananas are rich in potassium."]
    scores = semantic_similarity(embedder)([Sample(q, record("q", "A", a)) for a in answers])
    exact, paraphrase, unrelated = scores
    assert exact == pytest.approx(1.0, abs=1e-5)
    assert paraphrase is not None and unrelated is not None
    assert paraphrase > unrelated + 0.2


def test_best_alias_and_conventions(embedder: Embedder) -> None:
    q = question("q", ["zebra", "Moscow"])
    unanswerable = question("u", answerable=False)
    samples = [Sample(q, record("q", "A", "Moscow")),
               Sample(q, record("q", "A", "I don't know")),
               Sample(q, record("q", "A", "Moscow", status="error")),
               Sample(unanswerable, record("u", "A", "Moscow"))]
    best, refused, failed, not_applicable = semantic_similarity(embedder)(samples)
    assert best == pytest.approx(1.0, abs=1e-5)  # the matching alias, not the first
    assert (refused, failed, not_applicable) == (0.0, 0.0, None)


def test_each_text_is_embedded_once(embedder: Embedder) -> None:
    texts = ["alpha beta", "gamma", "alpha beta"]
    first = embedder.encode(texts)
    assert first.shape == (3, 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first[0], first[2])
    cached = len(embedder._cache)
    embedder.encode(["gamma", "alpha beta"])
    assert len(embedder._cache) == cached  # nothing new was embedded


def test_export_and_preload_skip_the_model(embedder: Embedder) -> None:
    embedder.encode(["delta epsilon"])
    texts, vectors = embedder.export()
    fresh = scoring_embedder("/nonexistent/model")  # loading it would fail
    fresh.preload(texts, vectors)
    assert np.array_equal(fresh.encode(["delta epsilon"]), embedder.encode(["delta epsilon"]))
    with pytest.raises(ValueError, match="2 texts but 1 vectors"):
        fresh.preload(["a", "b"], vectors[:1])
