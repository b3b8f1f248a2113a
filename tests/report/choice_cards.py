"""Scorecards built straight from per-question numbers, for the choice's tests: each stack's
F1 and E2E per question (NaN: no response; status "error" where `failed`), its price, and
the summary fields `recommend` reads (throughput at concurrency 1, cost, latency), so a
test states exactly the case it means and hypothesis can draw thousands of them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from workbench.report.models import Cost, Method, QuestionRow, ScoreCard, StackSummary
from workbench.scoring.latency import summarize


def card(f1: Mapping[str, Sequence[float]], e2e: Mapping[str, Sequence[float]] | None = None, *,
         failed: Mapping[str, Sequence[bool]] | None = None,
         price: Mapping[str, float] | None = None, n_questions: int | None = None,
         order: Sequence[str] | None = None) -> ScoreCard:
    """A card of the stacks in `order` (default: `f1`'s): `f1[s][i]` is NaN where s has no
    response to question i; E2E defaults to 1 s; `price` is per hour (USD)."""
    names = list(order or f1)
    n = len(next(iter(f1.values())))
    e2e = e2e or {s: [1.0] * n for s in names}
    failed = failed or {}
    rows, summaries = [], {}
    for i in range(n):
        have = [s for s in names if not math.isnan(f1[s][i])]
        bad = {s for s in have if s in failed and failed[s][i]}
        rows.append(QuestionRow(
            question_id=f"q{i}", question=f"Q{i}?", lang="en", answerable=True, gold=["g"],
            answers={s: ("a" if s in have else None) for s in names},
            status={s: ("error" if s in bad else "ok") if s in have else None for s in names},
            scores={s: ({"f1": float(f1[s][i]), "gold_contained": float(f1[s][i] >= 0.5)}
                        if s in have else {}) for s in names},
            e2e={s: float(e2e[s][i]) if s in have and s not in bad else None for s in names},
            outcome={}, latency_outcome={}))
    for s in names:
        f = np.array(f1[s], dtype=np.float64)
        got = ~np.isnan(f)
        failures = np.array(failed.get(s, [False] * n), dtype=bool) & got
        ok = got & ~failures
        t = np.array(e2e[s], dtype=np.float64)
        busy = float(t[got].sum())  # a failed request took its time too
        throughput = float(ok.sum()) / busy if busy > 0 and ok.any() else None
        cost = None
        if price and s in price and throughput:
            per_1k = price[s] / 3600 / throughput * 1000
            correct = float((f[got] >= 0.5).mean())
            cost = Cost(per_hour=price[s], currency="USD", per_1k_answers=per_1k,
                        per_correct_answer=per_1k / 1000 / correct if correct else None)
        summaries[s] = StackSummary(
            stack=s, model="m", engine="llamacpp", responses=int(got.sum()), ok=int(ok.sum()),
            errors=int(failures.sum()),
            error_rate=float(failures.sum() / got.sum()) if got.any() else None,
            error_kinds={"error": int(failures.sum())} if failures.any() else {},
            error_examples=[], quality={"f1": float(f[got].mean()) if got.any() else None},
            retrieval={}, counts={"f1": int(got.sum())},
            latency={"e2e": summarize([float(x) for x in t[ok]])}, throughput=throughput,
            cost=cost, values={"f1": [float(x) for x in f[got]], "e2e": [float(x) for x in t[ok]]})
    every = sum(all(not math.isnan(f1[s][i]) for s in names) for i in range(n))
    return ScoreCard(
        run_id="sim", stacks=names, baseline=names[0], n_questions=n_questions or n,
        n_pairs=every, n_unpaired=n - every, summaries=summaries, comparisons=[], wins_f1=[],
        wins_e2e=[], verdict="", verdict_parts=[], quality_difference=False, warnings=[],
        definitions={}, rows=rows, elapsed_s=0.0,
        method=Method(resamples=2000, seed=1, confidence=0.95, p95_min_pairs=200,
                      primary_metrics=["f1", "e2e"], holm_family=0, semantic_model=None,
                      judge=None))
