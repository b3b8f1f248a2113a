"""The scorecard's data model: what the CLI report, the web UI and the TUI all show.

`ScoreCard.model_dump_json()` is the JSON export; `workbench.report.render` draws it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workbench.scoring.base import Section
from workbench.scoring.latency import LatencySummary

Outcome = Literal["A", "B", "tie", "error", "unpaired"]


class Comparison(BaseModel):
    """One compared statistic: A, B, the paired difference B - A with its CI, a verdict."""

    key: str = Field(description='"f1", "hit@5", "e2e.p95", "error_rate", ...')
    metric: str = Field(description="The scorer's metric key.")
    label: str
    section: Section
    statistic: Literal["mean", "p50", "p95", "rate"]
    unit: str = Field(description='"s", "tok/s", or "" for scores and rates in [0, 1].')
    higher_is_better: bool
    n_pairs: int = Field(description="Pairs where both sides have a value.")
    a: float | None = Field(description="A's statistic over those pairs.")
    b: float | None
    diff: float | None = Field(description="B - A.")
    ci_low: float | None = Field(description="95% bootstrap CI of B - A.")
    ci_high: float | None
    rel_pct: float | None = Field(default=None, description="Latency: (B / A - 1) in %.")
    rel_ci_low: float | None = None
    rel_ci_high: float | None = None
    p_value: float | None = Field(default=None, description="McNemar (binary metrics).")
    test: str | None = Field(default=None, description="Which McNemar variant gave p_value.")
    a_only: int | None = Field(default=None, description="Binary: pairs only A got right.")
    b_only: int | None = Field(default=None, description="Binary: pairs only B got right.")
    significant: bool = Field(description="The CI excludes 0.")
    better: Literal["A", "B"] | None = Field(description="The side the difference favours.")
    verdict: str


class SideSummary(BaseModel):
    """Everything about one side's own responses (not only the paired ones)."""

    side: Literal["A", "B"]
    stack: str
    model: str
    engine: str
    responses: int
    ok: int
    errors: int = Field(description="Responses with status != ok (errors and timeouts).")
    error_rate: float | None
    error_kinds: dict[str, int] = Field(description="Failed responses by status.")
    error_examples: list[str] = Field(description="Up to three distinct error messages.")
    quality: dict[str, float | None] = Field(description="Metric key -> mean score.")
    retrieval: dict[str, float | None] = Field(description="Metric key -> mean score.")
    counts: dict[str, int] = Field(description="Metric key -> responses it applied to.")
    latency: dict[str, LatencySummary] = Field(description="Metric key -> summary (ok only).")


class QuestionRow(BaseModel):
    """One question with both sides' answers, scores and who won it."""

    question_id: str
    question: str
    lang: str
    answerable: bool
    gold: list[str]
    answer_a: str | None
    answer_b: str | None
    status_a: str | None
    status_b: str | None
    scores_a: dict[str, float | None]
    scores_b: dict[str, float | None]
    e2e_a: float | None
    e2e_b: float | None
    outcome: Outcome = Field(description="Who won on token F1 (error: a side failed).")
    latency_outcome: Outcome = Field(description="Who was faster on E2E (ties within 5%).")


class Wins(BaseModel):
    """Per-question outcomes over the pairs."""

    a_wins: int
    b_wins: int
    ties: int
    errors: int = Field(description="Pairs where at least one side failed.")


class Method(BaseModel):
    """How the statistics were computed (stated in the report)."""

    resamples: int
    seed: int
    confidence: float
    mcnemar_exact_below: int = 25
    latency_tie_pct: float = 5.0
    semantic_model: str | None
    judge: dict[str, str] | None = Field(description="Judge model, endpoint and prompt.")


class ScoreCard(BaseModel):
    """The scored A/B run."""

    schema_version: int = 1
    run_id: str | None
    stacks: dict[str, str] = Field(description="Side -> stack name.")
    n_questions: int = Field(description="Questions in the eval set.")
    n_pairs: int = Field(description="Questions answered by both sides.")
    n_unpaired: int = Field(description="Questions answered by one side only.")
    sides: dict[str, SideSummary]
    comparisons: list[Comparison]
    wins_f1: Wins
    wins_e2e: Wins
    verdict: str
    verdict_parts: list[str]
    quality_difference: bool = Field(description="Some quality metric differs significantly.")
    warnings: list[str] = Field(description="Fairness and data warnings.")
    definitions: dict[str, str] = Field(description="Metric key -> definition.")
    method: Method
    rows: list[QuestionRow]
    elapsed_s: float = Field(description="Time spent scoring.")

    def comparison(self, key: str) -> Comparison:
        """The comparison with this key (KeyError naming the known keys otherwise)."""
        for c in self.comparisons:
            if c.key == key:
                return c
        raise KeyError(f"no comparison {key!r}; known: {[c.key for c in self.comparisons]}")
