"""The standard composition of scorers for a scorecard (a run may compose its own)."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.records.responses import ResponseRecord
from workbench.scoring import answer, retrieval
from workbench.scoring.base import Scorer
from workbench.scoring.judge import (
    Judge,
    faithfulness,
    judge_correctness,
    judge_faithfulness,
    judge_relevance,
)
from workbench.scoring.semantic import Embedder, semantic_similarity


def retrieval_ks(responses: Sequence[ResponseRecord]) -> list[int]:
    """The cut-offs 1, 3, 5, 10 that the longest retrieved list reaches."""
    longest = max((len(r.sources) for r in responses), default=0)
    return [k for k in (1, 3, 5, 10) if k <= longest]


def default_scorers(ks: Sequence[int], *, semantic: bool, judge: Judge | None,
                    embedder: Embedder | None) -> list[Scorer]:
    """The quality and retrieval scorers of a standard scorecard, in display order."""
    scorers = [answer.exact_match(), answer.token_f1(), answer.gold_contained()]
    if semantic:
        scorers.append(semantic_similarity(embedder))
    scorers.append(answer.refusal())
    if judge is not None:
        scorers += [judge_correctness(judge), faithfulness(judge), judge_faithfulness(judge),
                    judge_relevance(judge)]
    if ks:
        scorers += [retrieval.hit_rate(k) for k in ks] + [retrieval.recall(k) for k in ks]
        scorers += [retrieval.mrr()] + [retrieval.ndcg(k) for k in ks]
    return scorers
