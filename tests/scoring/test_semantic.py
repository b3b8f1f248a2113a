"""Semantic similarity with the real packaged all-MiniLM-L6-v2 embedder (CPU, offline)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.scoring import Embedder, semantic_similarity
from workbench.scoring.base import Sample


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


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
    fresh = Embedder(model="/nonexistent/model")  # loading it would fail
    fresh.preload(texts, vectors)
    assert np.array_equal(fresh.encode(["delta epsilon"]), embedder.encode(["delta epsilon"]))
    with pytest.raises(ValueError, match="2 texts but 1 vectors"):
        fresh.preload(["a", "b"], vectors[:1])
