"""Retrieval scorers on gold passage ids: hit@k, recall@k, MRR and nDCG@k.

Only answerable questions with gold ids are scored (others give `None`). Sources are taken
in `rank` order. A passage may come back as several chunks: only its first (best-ranked)
chunk counts as relevant, so a passage is never counted twice, while the cut-off k is on
the retrieved list as the stack returned it (its top_k chunks). A failed request keeps
whatever sources it recorded, usually none, and so scores 0.

The definitions live once, on relevance lists (`hit_in`, `reciprocal_rank_of`, `ndcg_at`);
`hit_at_k` and `reciprocal_rank` apply them to a plain ranked list of passage ids, for
callers without stored samples (the retrieval-quality check in `tests/rag/test_quality.py`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from workbench.scoring.base import Metric, Sample, Scorer


def relevance_of(ranked_ids: Sequence[str], gold_ids: Collection[str]) -> list[int]:
    """1/0 per retrieved passage id in rank order: 1 = the first (best-ranked) chunk of a
    gold passage; a passage's later chunks are 0, so it is never counted twice."""
    gold = set(gold_ids)
    seen: set[str] = set()
    rels = []
    for doc_id in ranked_ids:
        rels.append(int(doc_id in gold and doc_id not in seen))
        seen.add(doc_id)
    return rels


def hit_in(rels: Sequence[int], k: int) -> float:
    """1.0 when a relevant item is among the first `k`, else 0.0."""
    return float(any(rels[:k]))


def reciprocal_rank_of(rels: Sequence[int]) -> float:
    """1 / rank of the first relevant item (ranks from 1), 0.0 when there is none."""
    return next((1.0 / (i + 1) for i, r in enumerate(rels) if r), 0.0)


def hit_at_k(ranked_ids: Sequence[str], gold_ids: Collection[str], k: int) -> float:
    """hit@k of one ranked list of passage ids (one id per retrieved chunk, in rank order)."""
    return hit_in(relevance_of(ranked_ids, gold_ids), k)


def reciprocal_rank(ranked_ids: Sequence[str], gold_ids: Collection[str]) -> float:
    """Reciprocal rank of the first gold passage in one ranked list of passage ids."""
    return reciprocal_rank_of(relevance_of(ranked_ids, gold_ids))


def relevance(sample: Sample) -> list[int] | None:
    """1/0 per retrieved source in rank order (1 = first chunk of a gold passage);
    `None` when the question has no gold passages."""
    gold = set(sample.question.gold_doc_ids)
    if not sample.question.answerable or not gold:
        return None
    ranked = sorted(sample.response.sources, key=lambda s: s.rank)
    return relevance_of([src.doc_id for src in ranked], gold)


class _SharedRelevance:
    """Relevance lists of the last batch scored: the dozen retrieval scorers of one
    scorecard are called on the same batch, and need the ranking worked out only once.
    Holding the batch itself (not its id) means a new batch can never be mistaken for it."""

    def __init__(self) -> None:
        self._batch: Sequence[Sample] | None = None
        self._rels: list[list[int] | None] = []
        self._lock = threading.Lock()

    def __call__(self, samples: Sequence[Sample]) -> list[list[int] | None]:
        with self._lock:
            if samples is not self._batch:
                self._batch, self._rels = samples, [relevance(s) for s in samples]
            return self._rels


_shared = _SharedRelevance()


@dataclass(frozen=True)
class _RetrievalScorer:
    metric: Metric
    fn: Callable[[list[int], int], float]

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        return [None if rels is None else self.fn(rels, len(set(s.question.gold_doc_ids)))
                for s, rels in zip(samples, _shared(samples), strict=True)]


def _scorer(metric: Metric, fn: Callable[[list[int], int], float]) -> Scorer:
    return _RetrievalScorer(metric, fn)


def hit_rate(k: int) -> Scorer:
    """hit@k: some gold passage is among the first k retrieved."""
    metric = Metric(f"hit@{k}", f"Hit@{k}", "retrieval",
                    f"a gold passage is among the first {k} retrieved", binary=True)
    return _scorer(metric, lambda rels, _: hit_in(rels, k))


def recall(k: int) -> Scorer:
    """recall@k: share of the gold passages found among the first k retrieved."""
    metric = Metric(f"recall@{k}", f"Recall@{k}", "retrieval",
                    f"share of gold passages among the first {k} retrieved")
    return _scorer(metric, lambda rels, n_gold: sum(rels[:k]) / n_gold)


def mrr() -> Scorer:
    """Mean reciprocal rank of the first gold passage in the whole retrieved list."""
    metric = Metric("mrr", "MRR", "retrieval",
                    "1 / rank of the first gold passage retrieved (0 when none)")

    return _scorer(metric, lambda rels, _: reciprocal_rank_of(rels))


def ndcg_at(rels: list[int], n_gold: int, k: int) -> float:
    """Binary-relevance nDCG@k: DCG = sum rel_i / log2(i + 1) over ranks i <= k, divided
    by the DCG of an ideal list holding all gold passages first."""
    dcg = sum(r / math.log2(i + 2) for i, r in enumerate(rels[:k]))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_gold, k)))
    return dcg / ideal if ideal else 0.0


def ndcg(k: int) -> Scorer:
    """nDCG@k with binary relevance on gold passages."""
    metric = Metric(f"ndcg@{k}", f"nDCG@{k}", "retrieval",
                    f"normalised discounted cumulative gain of the first {k} (binary relevance)")
    return _scorer(metric, lambda rels, n_gold: ndcg_at(rels, n_gold, k))
