"""Retrieval metrics on gold passage ids, computed by hand."""

from __future__ import annotations

import math

import pytest

from tests.report.synthetic import question, record
from workbench.scoring import hit_rate, mrr, ndcg, recall
from workbench.scoring.base import Sample, Scorer


def _score(scorer: Scorer, retrieved: list[str], gold: list[str]) -> float | None:
    q = question("q", ["x"], gold_doc_ids=gold)
    return scorer([Sample(q, record("q", "A", "x", docs=retrieved))])[0]


def test_three_list_by_hand() -> None:
    retrieved, gold = ["d2", "d1", "d3"], ["d1", "d3"]
    # DCG@3 = 1/log2(3) + 1/log2(4); ideal = 1/log2(2) + 1/log2(3).
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert expected == pytest.approx(0.6934, abs=1e-4)
    assert _score(ndcg(3), retrieved, gold) == pytest.approx(expected)
    assert _score(ndcg(1), retrieved, gold) == 0.0
    assert _score(hit_rate(1), retrieved, gold) == 0.0
    assert _score(hit_rate(3), retrieved, gold) == 1.0
    assert _score(recall(1), retrieved, gold) == 0.0
    assert _score(recall(2), retrieved, gold) == 0.5
    assert _score(recall(3), retrieved, gold) == 1.0
    assert _score(mrr(), retrieved, gold) == 0.5


def test_chunks_of_one_passage_count_once() -> None:
    # d1 comes back as two chunks: the second is not a second relevant item.
    retrieved, gold = ["d1", "d1", "d3"], ["d1", "d3"]
    assert _score(recall(2), retrieved, gold) == 0.5
    expected = (1 + 0 + 0.5) / (1 + 1 / math.log2(3))
    assert _score(ndcg(3), retrieved, gold) == pytest.approx(expected)


def test_sources_are_read_in_rank_order() -> None:
    q = question("q", ["x"], gold_doc_ids=["d1"])
    r = record("q", "A", "x", docs=["d1", "d2"])
    r.sources[0].rank, r.sources[1].rank = 2, 1  # stored out of order
    assert mrr()([Sample(q, r)])[0] == 0.5


def test_miss_and_not_applicable() -> None:
    assert _score(mrr(), ["d7", "d8"], ["d1"]) == 0.0
    assert _score(hit_rate(5), [], ["d1"]) == 0.0
    q = question("u", answerable=False)
    assert hit_rate(1)([Sample(q, record("u", "A", "I don't know", docs=["d1"]))]) == [None]


def test_plain_ranked_lists_use_the_same_definitions() -> None:
    """`hit_at_k`/`reciprocal_rank` (used by the retrieval-quality test) count a passage
    once, at its best chunk, with k on the retrieved chunk list, as the scorers do."""
    from workbench.scoring.retrieval import hit_at_k, reciprocal_rank, relevance_of

    ranked = ["p2", "p2", "p1", "p3"]
    assert relevance_of(ranked, {"p1", "p2"}) == [1, 0, 1, 0]
    assert hit_at_k(ranked, ["p1"], 2) == 0.0 and hit_at_k(ranked, ["p1"], 3) == 1.0
    assert reciprocal_rank(ranked, ["p3"]) == 0.25
    assert reciprocal_rank(ranked, ["p9"]) == 0.0 and hit_at_k([], ["p1"], 5) == 0.0
