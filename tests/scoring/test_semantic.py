"""Semantic similarity with the real packaged all-MiniLM-L6-v2 embedder (ONNX export and
sentence-transformers, CPU, offline)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.rag.embedder import Embedder as RagEmbedder
from workbench.rag.embedder import resolve_model_path
from workbench.scoring import Embedder, default_embedder, semantic_similarity
from workbench.scoring.base import Sample
from workbench.scoring.semantic import DEFAULT_MODEL, MAX_TOKENS, scoring_embedder
from workbench.settings import PROJECT_ROOT

LONG = "The river runs through the old city and past the harbour walls. " * 30


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return scoring_embedder()


def test_one_class_for_retrieval_and_scoring() -> None:
    assert Embedder is RagEmbedder
    shared = default_embedder()
    assert shared is default_embedder()  # one per process
    # The ONNX export retrieval uses (it loads here), cut at 128 tokens.
    assert (shared.backend, shared.max_tokens, shared.model_name) == ("onnx", 128,
                                                                      DEFAULT_MODEL)


def _real_texts() -> list[str]:
    """Questions, gold answers and passages of the shipped demo sets, English and Russian."""
    texts: list[str] = [LONG]
    for name in ("demo-en", "demo-ru"):
        folder = PROJECT_ROOT / "evalsets" / name
        for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row["question"], *row["answers"]]
        for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
            texts.append(json.loads(line)["text"])
    return list(dict.fromkeys(texts))


def test_onnx_scores_match_sentence_transformers_on_real_text(embedder: Embedder) -> None:
    """Scoring moved from sentence-transformers (torch) to the ONNX export: on the shipped
    sets' real text every vector must stay within 1e-4 cosine of the old path's, and
    every answer-vs-gold score within 1e-3, so stored scores do not move."""
    from sentence_transformers import SentenceTransformer

    texts = _real_texts()
    assert len(texts) > 300
    old = SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")
    old.max_seq_length = MAX_TOKENS
    expected = old.encode(texts, batch_size=32, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False)
    got = embedder.encode(texts)
    assert embedder.backend == "onnx"
    per_text = (got * expected).sum(axis=1)
    assert float(per_text.min()) > 0.9999, texts[int(per_text.argmin())]
    # Scores are cosines between texts: every pair's, on both paths.
    assert float(np.abs(got @ got.T - expected @ expected.T).max()) < 1e-3
    # The 128-token cut is real on ONNX too: at the model's own 256 the long text differs.
    full = RagEmbedder(DEFAULT_MODEL, "onnx").encode([LONG])[0]
    assert float(full @ got[0]) < 0.9999


def test_an_answer_that_is_a_gold_alias_scores_1_without_embedding() -> None:
    fresh = scoring_embedder()
    q = question("q", ["Paris", "in Paris"])
    (score,) = semantic_similarity(fresh)([Sample(q, record("q", "A", "in Paris"))])
    assert score == 1.0
    assert len(fresh._cache) == 0  # nothing was embedded


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
    # "moscow" is not an alias (so it is embedded) but tokenizes as "Moscow" (uncased model).
    samples = [Sample(q, record("q", "A", "moscow")),
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
