"""The scorecard's data model: what the CLI report, the web UI and the TUI all show.

A run compares 2-8 named stacks; one is the baseline and every comparison is a candidate
paired against it. `ScoreCard.model_dump_json()` is the JSON export;
`workbench.report.render` draws it, `workbench.report.choice` turns it into a choice.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from workbench.report.load import LoadRun, StackLoad
from workbench.scoring.base import Section
from workbench.scoring.latency import LatencySummary

#: Who won one question between a candidate and the baseline: a stack name, or one of these.
Outcome = str
TIE, ERROR, UNPAIRED = "tie", "error", "unpaired"


class Comparison(BaseModel):
    """One compared statistic of a candidate against the baseline, with its CI and verdict."""

    key: str = Field(description='"f1", "hit@5", "e2e.ratio", "e2e.p95", "error_rate", ...')
    metric: str = Field(description="The scorer's metric key.")
    label: str
    section: Section
    statistic: Literal["mean", "ratio", "p95", "rate"] = Field(
        description="mean: difference of means; ratio: median of per-question ratios "
        "(latency); p95: difference of 95th percentiles; rate: share of failed requests.")
    unit: str = Field(description='"s", "tok/s", or "" for scores and rates in [0, 1].')
    higher_is_better: bool
    baseline: str = Field(description="The baseline stack's name.")
    candidate: str = Field(description="The candidate stack's name.")
    n_pairs: int = Field(description="Questions where both stacks have a value.")
    baseline_value: float | None = Field(description="The baseline's statistic over the pairs.")
    candidate_value: float | None
    diff: float | None = Field(description="candidate - baseline (mean, p95, rate).")
    ci_low: float | None = Field(description="95% paired bootstrap CI of `diff`.")
    ci_high: float | None
    rel_pct: float | None = Field(
        default=None, description="Latency: candidate / baseline - 1 in % (for `ratio`, the "
        "median of per-question ratios).")
    rel_ci_low: float | None = None
    rel_ci_high: float | None = None
    share_better: float | None = Field(
        default=None, description="ratio: share of pairs where the candidate was better "
        "(faster, or higher for tok/s).")
    p_value: float | None = Field(default=None, description="The paired test's p-value.")
    p_holm: float | None = Field(
        default=None, description="Primary metrics: Holm-adjusted p over every candidate x "
        "primary metric of the run.")
    p_bh: float | None = Field(
        default=None, description="Secondary metrics: Benjamini-Hochberg-adjusted p over every "
        "other tested comparison of the run (false discovery rate).")
    primary: bool = Field(default=False, description="In the Holm-corrected family.")
    test: str | None = Field(default=None, description="Which paired test gave p_value.")
    baseline_only: int | None = Field(default=None,
                                      description="Binary: pairs only the baseline got right.")
    candidate_only: int | None = Field(default=None,
                                       description="Binary: pairs only the candidate got right.")
    significant: bool = Field(description="The CI excludes 0 and the adjusted p-value (Holm "
                              "for primary metrics, Benjamini-Hochberg for the others) is "
                              "below 0.05.")
    better: str | None = Field(description="The stack the difference favours, if significant.")
    verdict: str


class StackSummary(BaseModel):
    """Everything about one stack's own responses (not only the paired ones)."""

    stack: str
    alias: str = Field(default="", description='"A"/"B" in a two-stack run, else "".')
    baseline: bool = False
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
    throughput: float | None = Field(
        default=None, description="Answers per second while this stack was being asked (its "
        "busy time: the union of its requests' intervals), at the run's concurrency.")
    cost: Cost | None = None
    faithfulness: Faithfulness | None = Field(
        default=None, description="Judged faithfulness and answers from planted false "
        "passages (`workbench.report.faithfulness`); None when neither applies.")
    engine_counters: EngineCounterTotals | None = Field(
        default=None, description="The engine's own counters over the run (None: it reported "
        "none).")
    ci: dict[str, list[float | None]] = Field(
        default_factory=dict, description="Statistic -> 95% CI [low, high] over this "
        "stack's own answers: f1 (mean, BCa bootstrap; Wilson's score interval when every "
        "answer scores 0 or 1), e2e.p50, e2e.p95 (successful "
        "requests, order-statistic); an end the data cannot bound is null (a p95's upper "
        "bound needs 72 requests).")
    load: StackLoad | None = Field(
        default=None, description="Its capacity under the matrix's load block "
        "(`workbench.report.load`); None when the run had no load pass.")
    values: dict[str, list[float]] = Field(
        default_factory=dict, description="Metric key -> this stack's per-answer values "
        "(latency: successful requests only; failed ones are `errors`), for the "
        "constraints' intervals (`report.limits`).")


class EngineCounterTotals(BaseModel):
    """What one stack's engine itself counted over the run (`workbench.report.engine_counters`):
    per-request counters summed over its successful answers, and its `/metrics` deltas."""

    requests: int = Field(description="Successful answers that carried engine counters.")
    prompt_tokens: int | None = Field(default=None, description="Prompt tokens, all requests.")
    cached_tokens: int | None = Field(
        default=None, description="Of those, served from the engine's prompt/prefix cache.")
    cache_hit_rate: float | None = Field(
        default=None, description="cached_tokens / prompt_tokens (from /metrics when the "
        "answers carried no counters).")
    prompt_tokens_mean: float | None = Field(default=None, description="Per request.")
    prefill_tok_s: float | None = Field(
        default=None, description="Uncached prompt tokens per second of engine prefill time.")
    prefill_ms_mean: float | None = Field(
        default=None, description="Engine prefill time per request (uncached prompt tokens).")
    queue_ms_mean: float | None = Field(
        default=None, description="Mean time a request waited in the engine's queue.")
    prefix_caching: bool | None = Field(
        default=None, description="The run's setting (recipe, else the engine's default).")
    source: str = Field(default="", description='"per request", "/metrics" or both.')


class PlantedFalse(BaseModel):
    """Answers that repeat the false answer of a planted (counterfactual) passage."""

    repeated: int = Field(description="Answers containing a planted false answer.")
    answered: int = Field(description="Successful answers to questions with a planted passage.")
    rate: float | None = Field(description="repeated / answered.")
    question_ids: list[str] = Field(default_factory=list,
                                    description="Questions whose answer repeated it.")


class Faithfulness(BaseModel):
    """One stack's faithfulness: the judge's claim-level score on its sample, and the
    answers that repeated a planted false passage (counted without a judge)."""

    judged: int = Field(default=0, description="Judged answers that make claims (the mean's "
                        "n; refusals and failed requests claim nothing and are left out).")
    mean: float | None = Field(default=None, description="Mean share of supported claims, "
                               "over judged answers that make claims.")
    ci_low: float | None = Field(default=None, description="95% BCa CI of the mean (the "
                                 "lower bound a `faithfulness>=x` constraint is judged on).")
    ci_high: float | None = None
    all_supported: float | None = Field(default=None, description="Share of judged answers "
                                        "that make claims whose every claim is supported.")
    answered: int = Field(default=0, description="Successful answers of the stack.")
    refusals: int = Field(default=0, description="Of those, answers that claim nothing "
                          "(refusals and empty answers, `scoring.claims.split_claims`).")
    refusal_rate: float | None = Field(default=None, description="refusals / answered.")
    planted: PlantedFalse | None = None


class Cost(BaseModel):
    """What an answer costs on a stack: from its price, or from the resources it used."""

    per_hour: float | None = Field(default=None, description="The recipe's cost.per_hour.")
    currency: str = ""
    per_1k_answers: float | None = Field(
        default=None, description="per_hour / 3600 / throughput * 1000.")
    per_correct_answer: float | None = Field(
        default=None, description="Cost per answer that contains the gold answer.")
    cpu_s_per_answer: float | None = Field(
        default=None, description="CPU seconds of the stack's processes per answer.")
    peak_rss_mb: float | None = Field(default=None, description="Peak RSS of its processes.")


class QuestionRow(BaseModel):
    """One question with every stack's answer, scores and who won it against the baseline."""

    question_id: str
    question: str
    lang: str
    answerable: bool
    gold: list[str]
    answers: dict[str, str | None] = Field(description="Stack -> answer.")
    status: dict[str, str | None] = Field(description="Stack -> status.")
    scores: dict[str, dict[str, float | None]] = Field(description="Stack -> metric -> score.")
    e2e: dict[str, float | None] = Field(description="Stack -> E2E seconds.")
    outcome: dict[str, Outcome] = Field(
        description="Candidate -> winner on token F1 against the baseline (a stack name, "
        "tie, error: a stack failed, unpaired).")
    latency_outcome: dict[str, Outcome] = Field(
        description="Candidate -> faster on E2E against the baseline (ties within 5%).")


class Wins(BaseModel):
    """Per-question outcomes of one candidate against the baseline."""

    baseline: str
    candidate: str
    baseline_wins: int
    candidate_wins: int
    ties: int
    errors: int = Field(description="Pairs where at least one stack failed.")


class Power(BaseModel):
    """The smallest primary-quality difference this run could have detected."""

    candidate: str
    metric: str
    n_pairs: int
    mde: float | None = Field(description="Minimum detectable |difference| at 80% power.")
    alpha: float = Field(description="The two-sided level used (Holm's strictest step).")
    text: str


class Method(BaseModel):
    """How the statistics were computed (stated in the report)."""

    resamples: int
    seed: int
    confidence: float
    mcnemar_exact_below: int = 25
    latency_tie_pct: float = 5.0
    p95_min_pairs: int = Field(description="p95 is compared only with this many pairs.")
    primary_metrics: list[str] = Field(description="The Holm family's metrics.")
    holm_family: int = Field(description="Tests in the Holm family (candidates x primary).")
    bh_family: int = Field(default=0, description="Secondary tests, Benjamini-Hochberg "
                           "adjusted together (candidates x other tested metrics).")
    semantic_model: str | None
    judge: dict[str, Any] | None = Field(
        description="Judge kind, model, digest, endpoint, prompt and sample.")


class JudgeAgreement(BaseModel):
    """How often the judge's "correct" agrees with token F1 >= 0.5 on gold questions."""

    n: int = Field(description="Judged answers to questions with gold answers.")
    agreement: float | None = Field(description="Share where both say right, or both wrong.")
    kappa: float | None = Field(description="Cohen's kappa (agreement beyond chance).")
    kappa_ci_low: float | None = Field(
        default=None, description="95% BCa interval of kappa (bootstrap over questions).")
    kappa_ci_high: float | None = None
    judge_correct: float | None = Field(description="Share the judge called correct.")
    f1_correct: float | None = Field(description="Share with F1 >= 0.5.")


class PairwiseBias(BaseModel):
    """One candidate against the baseline judged pairwise, each pair in both orders."""

    candidate: str
    n: int = Field(description="Pairs judged in both orders.")
    baseline_wins: int
    candidate_wins: int
    ties: int
    inconsistent: int = Field(description="Pairs whose two orders disagreed.")
    position_bias: int = Field(description="Pairs where both orders picked the same position.")
    position_bias_rate: float | None = Field(description="position_bias / n.")


class JudgeTrust(BaseModel):
    """How far to trust the judge: agreement with F1, and position bias when pairwise."""

    agreement: JudgeAgreement | None = None
    pairwise: list[PairwiseBias] = Field(default_factory=list)
    calls: int = Field(default=0, description="Judge calls made for this card.")
    cache_hits: int = Field(default=0, description="Verdicts read from the cache.")
    problems: list[str] = Field(default_factory=list, description="Failed calls (first few).")


class ScoreCard(BaseModel):
    """The scored run: every stack summarised, every candidate compared to the baseline."""

    schema_version: int = 2
    run_id: str | None
    stacks: list[str] = Field(description="Stack names in run order.")
    baseline: str
    n_questions: int = Field(description="Questions in the eval set.")
    n_pairs: int = Field(description="Questions answered by every stack.")
    n_unpaired: int = Field(description="Questions answered by some stacks only.")
    summaries: dict[str, StackSummary] = Field(description="Stack -> its summary.")
    comparisons: list[Comparison]
    wins_f1: list[Wins]
    wins_e2e: list[Wins]
    verdict: str
    verdict_parts: list[str]
    quality_difference: bool = Field(description="Some quality metric differs significantly.")
    power: list[Power] = Field(default_factory=list)
    warnings: list[str] = Field(description="Fairness and data warnings.")
    host: str | None = Field(default=None, description="The machine that ran the run: CPU "
                             "and engine flags, cores, memory, GPUs, its calibration and the "
                             "load during the run (report.host).")
    notes: list[str] = Field(default_factory=list, description="What was left out and why.")
    engine_notes: list[str] = Field(
        default_factory=list, description="One line per candidate whose TTFT differs a lot "
        "from the baseline's, saying what the engines' counters show about why.")
    definitions: dict[str, str] = Field(description="Metric key -> definition.")
    method: Method
    judge_trust: JudgeTrust | None = Field(default=None, description="Judged runs only.")
    rows: list[QuestionRow]
    elapsed_s: float = Field(description="Time spent scoring.")
    load: LoadRun | None = Field(
        default=None, description="The load pass (capacity at the team's load); None: the "
        "run had no load block and was compared at concurrency 1.")

    @property
    def candidates(self) -> list[str]:
        """Every stack but the baseline, in run order."""
        return [s for s in self.stacks if s != self.baseline]

    def label(self, stack: str) -> str:
        """A stack's display name: "A: llamacpp-cpu" in a two-stack run, else the name."""
        alias = self.summaries[stack].alias if stack in self.summaries else ""
        return f"{alias}: {stack}" if alias else stack

    def comparison(self, key: str, candidate: str | None = None) -> Comparison:
        """The comparison with this key (of `candidate`, default the first candidate);
        KeyError naming the known keys otherwise."""
        cand = candidate or (self.candidates[0] if self.candidates else None)
        for c in self.comparisons:
            if c.key == key and c.candidate == cand:
                return c
        raise KeyError(f"no comparison {key!r} for {cand!r}; known: "
                       f"{sorted({c.key for c in self.comparisons})}")

    def comparisons_of(self, candidate: str) -> list[Comparison]:
        """One candidate's comparisons against the baseline, in display order."""
        return [c for c in self.comparisons if c.candidate == candidate]


StackSummary.model_rebuild()
