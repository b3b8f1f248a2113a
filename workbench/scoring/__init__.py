"""Scoring: answer quality, retrieval and latency scorers, and paired A-vs-B statistics.

A run composes small scorers (`exact_match()`, `token_f1()`, `hit_rate(5)`, `ttft()`, ...)
into a list; `workbench.report.build_scorecard` applies them to stored responses.
"""

from workbench.normalize import normalize_answer, normalize_tokens, stem_ru
from workbench.scoring.answer import (
    answer_is_correct,
    exact_match,
    gold_contained,
    refusal,
    token_f1,
)
from workbench.scoring.base import Metric, Sample, Scorer, Section, per_sample
from workbench.scoring.judge import (
    JUDGE_PROMPT,
    Grade,
    Judge,
    judge_correctness,
    judge_faithfulness,
)
from workbench.scoring.latency import (
    LatencyScorer,
    LatencySummary,
    e2e,
    itl,
    latency_scorers,
    output_rate,
    retrieval_time,
    summarize,
    tpot,
    ttft,
)
from workbench.scoring.refusal import is_refusal
from workbench.scoring.retrieval import hit_rate, mrr, ndcg, recall
from workbench.scoring.semantic import Embedder, default_embedder, semantic_similarity
from workbench.scoring.stats import (
    Interval,
    McNemar,
    PairedBootstrap,
    WinTieLoss,
    mcnemar,
    outcomes,
    win_tie_loss,
)
from workbench.scoring.suite import default_scorers, retrieval_ks

__all__ = [
    "JUDGE_PROMPT",
    "Embedder",
    "Grade",
    "Interval",
    "Judge",
    "LatencyScorer",
    "LatencySummary",
    "McNemar",
    "Metric",
    "PairedBootstrap",
    "Sample",
    "Scorer",
    "Section",
    "WinTieLoss",
    "answer_is_correct",
    "default_embedder",
    "default_scorers",
    "e2e",
    "exact_match",
    "gold_contained",
    "hit_rate",
    "is_refusal",
    "itl",
    "judge_correctness",
    "judge_faithfulness",
    "latency_scorers",
    "mcnemar",
    "mrr",
    "ndcg",
    "normalize_answer",
    "normalize_tokens",
    "outcomes",
    "output_rate",
    "per_sample",
    "recall",
    "refusal",
    "retrieval_ks",
    "retrieval_time",
    "semantic_similarity",
    "stem_ru",
    "summarize",
    "token_f1",
    "tpot",
    "ttft",
    "win_tie_loss",
]
