"""The scorecard: every number the CLI report, the web UI and the TUI show for one A/B run,
computed in one place (`build_scorecard`) from the stored questions and responses.

Pairs are the same question answered by both sides (the latest attempt of each). Quality
and retrieval compare means of per-question scores; latency compares p50 and p95 (relative
%, over pairs where both requests succeeded); binary metrics add McNemar's test. Failed
requests count as wrong answers and are left out of latency, which reports them as the
error rate.
"""

from __future__ import annotations

import time
from typing import Any

from workbench.evalsets.model import Question
from workbench.report import _compute
from workbench.report.fairness import fairness_warnings
from workbench.report.models import (
    Comparison,
    Method,
    QuestionRow,
    ScoreCard,
    SideSummary,
    Wins,
)
from workbench.report.verdict import overall_verdict
from workbench.runner.records import ResponseRecord
from workbench.scoring.judge import Judge
from workbench.scoring.semantic import Embedder


def build_scorecard(
    questions: list[Question],
    responses: list[ResponseRecord],
    *,
    manifest: dict[str, Any] | None = None,
    semantic: bool = True,
    judge: Judge | None = None,
    embedder: Embedder | None = None,
    resamples: int = 2000,
    seed: int = 20240521,
) -> ScoreCard:
    """Score a run: per-side summaries, paired comparisons with CIs, per-question rows and
    the verdict. `semantic=False` skips the embedding model; `judge` adds LLM-judge scores."""
    started = time.perf_counter()
    data = _compute.score(questions, responses, semantic=semantic, judge=judge,
                          embedder=embedder, resamples=resamples, seed=seed)
    parts = overall_verdict(data.comparisons)
    warnings = fairness_warnings(manifest) + data.warnings
    run_ids = {r.run_id for r in responses}
    return ScoreCard(
        run_id=run_ids.pop() if len(run_ids) == 1 else None,
        stacks={side: s.stack for side, s in data.sides.items()},
        n_questions=len(questions),
        n_pairs=data.n_pairs,
        n_unpaired=data.n_unpaired,
        sides=data.sides,
        comparisons=data.comparisons,
        wins_f1=data.wins_f1,
        wins_e2e=data.wins_e2e,
        verdict="; ".join(parts) if parts else "no answered pairs to compare",
        verdict_parts=parts,
        quality_difference=any(c.significant for c in data.comparisons
                               if c.section == "quality"),
        warnings=warnings,
        definitions=data.definitions,
        method=Method(
            resamples=resamples, seed=seed, confidence=0.95,
            semantic_model=(embedder.model_name if embedder else "all-MiniLM-L6-v2")
            if semantic else None,
            judge=judge.manifest() if judge else None,
        ),
        rows=data.rows,
        elapsed_s=time.perf_counter() - started,
    )


__all__ = ["Comparison", "QuestionRow", "ScoreCard", "SideSummary", "Wins", "build_scorecard",
           "fairness_warnings"]
