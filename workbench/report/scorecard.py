"""The scorecard: every number the CLI report, the web UI and the TUI show for one run,
computed in one place (`build_scorecard`) from the stored questions and responses.

Each candidate is paired with the baseline: the same question answered by both (the latest
attempt of each). Quality and retrieval compare means of per-question scores (binary
metrics add McNemar's test, others a sign-flip test); latency compares the median of
per-question ratios (over pairs where both requests succeeded) and the share of questions
that were faster; p95 only with enough pairs. F1 and the E2E ratio are the primary metrics,
Holm-corrected over every candidate. Failed requests count as wrong answers and are left
out of latency, which reports them as the error rate.
"""

from __future__ import annotations

import time

from workbench.records.evalset import Question
from workbench.records.manifest import ManifestLike, RunManifest
from workbench.records.manifest_parts import Price, ResourceUse
from workbench.records.responses import ResponseRecord
from workbench.report import paired
from workbench.report.engine_counters import add_engine_counters, explain_ttft
from workbench.report.fairness import fairness_warnings, tuning_note
from workbench.report.faithfulness import add_faithfulness
from workbench.report.gold import gold_notes
from workbench.report.host import host_line, host_warnings
from workbench.report.judge_trust import judge_trust, pairwise_bias
from workbench.report.models import (
    Comparison,
    Cost,
    Method,
    QuestionRow,
    ScoreCard,
    StackSummary,
    Wins,
)
from workbench.report.response_checks import check_responses
from workbench.report.tokenizers import mark_token_metrics
from workbench.report.verdict import PRIMARY_LATENCY, PRIMARY_QUALITY, candidate_verdict
from workbench.scoring.judge import Judge
from workbench.scoring.semantic import Embedder
from workbench.scoring.stats import PairedBootstrap


def build_scorecard(
    questions: list[Question],
    responses: list[ResponseRecord],
    *,
    stacks: list[str] | None = None,
    baseline: str | None = None,
    manifest: ManifestLike = None,
    semantic: bool = True,
    judge: Judge | None = None,
    pairwise: bool = False,
    embedder: Embedder | None = None,
    resamples: int = 2000,
    seed: int = 20240521,
) -> ScoreCard:
    """Score a run: per-stack summaries, each candidate's paired comparisons with the
    baseline (CIs, Holm over the primary metrics), per-question rows and the verdict.

    `stacks` (run order) defaults to the stacks in `responses` in order of appearance, the
    baseline to the first. `semantic=False` skips the embedding model; `judge` adds LLM-judge
    scores (and with `pairwise`, each candidate judged against the baseline in both orders,
    for position bias)."""
    started = time.perf_counter()
    m = RunManifest.read(manifest)
    names = stacks or list(dict.fromkeys(r.stack for r in responses))
    base = baseline or (names[0] if names else "")
    data = paired.score(questions, responses, stacks=names, baseline=base, semantic=semantic,
                        judge=judge, embedder=embedder, resamples=resamples, seed=seed)
    # Before the verdicts: a stack whose retrieval cannot be scored is not compared on it.
    check_responses(questions, responses, names, m).apply(data)
    data.notes += mark_token_metrics(data.comparisons, m, base)
    parts = [candidate_verdict([c for c in data.comparisons if c.candidate == cand])
             for cand in names if cand != base]
    warnings = fairness_warnings(m) + host_warnings(m) + data.warnings
    add_costs(data.summaries, m)
    add_faithfulness(data.summaries, data.rows, questions,
                     PairedBootstrap(resamples=resamples, seed=seed), judged=judge is not None)
    trust = None
    if judge is not None:
        bias = pairwise_bias(judge, questions, responses, names, base) if pairwise else None
        trust = judge_trust(judge, data.rows, names, bias)
    add_engine_counters(data.summaries, responses, m)
    run_ids = {r.run_id for r in responses}
    return ScoreCard(
        run_id=run_ids.pop() if len(run_ids) == 1 else None,
        stacks=names,
        baseline=base,
        n_questions=len(questions),
        n_pairs=data.n_pairs,
        n_unpaired=data.n_unpaired,
        summaries=data.summaries,
        comparisons=data.comparisons,
        wins_f1=data.wins_f1,
        wins_e2e=data.wins_e2e,
        verdict="; ".join(parts) if parts else "no answered pairs to compare",
        verdict_parts=parts,
        quality_difference=any(c.significant for c in data.comparisons
                               if c.section == "quality"),
        power=data.power,
        warnings=warnings,
        host=host_line(m),
        notes=data.notes + gold_notes(questions, judged=judge is not None)
        + [n for n in [tuning_note(m)] if n],
        engine_notes=explain_ttft(data.summaries, base),
        definitions=data.definitions,
        method=Method(
            resamples=resamples, seed=seed, confidence=0.95,
            p95_min_pairs=paired.P95_MIN_PAIRS,
            primary_metrics=[PRIMARY_QUALITY, PRIMARY_LATENCY], holm_family=data.holm_family,
            bh_family=data.bh_family,
            semantic_model=(embedder.model_name if embedder else "all-MiniLM-L6-v2")
            if semantic else None,
            judge=judge.manifest() if judge else None,
        ),
        judge_trust=trust,
        rows=data.rows,
        elapsed_s=time.perf_counter() - started,
    )


def add_costs(summaries: dict[str, StackSummary], manifest: ManifestLike) -> None:
    """Each stack's cost per answer: from its recipe's `cost.per_hour` and its measured
    throughput, and from the CPU time and peak RSS the runner recorded for it."""
    m = RunManifest.read(manifest)
    used = m.resources or {}
    for name, s in summaries.items():
        # A matrix file's price wins over the recipe's: the same recipe may run on a
        # machine with another price (older manifests key recipes by side letter).
        price = (m.prices or {}).get(name)
        if price is None or not price.model_fields_set:  # {} falls through, as it did
            price = Price.model_validate(m.recipe_of(name).get("cost") or {})
        res = used.get(name) or ResourceUse()
        cost = Cost(per_hour=price.per_hour,
                    currency="USD" if price.currency is None else price.currency,
                    peak_rss_mb=res.peak_rss_mb)
        if res.cpu_s is not None and res.answers:
            cost.cpu_s_per_answer = float(res.cpu_s) / float(res.answers)
        if cost.per_hour is not None and s.throughput:
            cost.per_1k_answers = cost.per_hour / 3600.0 / s.throughput * 1000.0
            correct = s.quality.get("gold_contained")
            if correct:
                cost.per_correct_answer = cost.per_1k_answers / 1000.0 / correct
        if cost.per_hour is not None or cost.cpu_s_per_answer is not None \
                or cost.peak_rss_mb is not None:
            s.cost = cost


__all__ = ["Comparison", "QuestionRow", "ScoreCard", "StackSummary", "Wins", "build_scorecard",
           "fairness_warnings"]
