"""The arithmetic behind `build_scorecard`: apply the scorers to every stack at once, then
summarise each stack and compare each candidate with the baseline, question by question.

The primary metrics (answer F1 and the median E2E ratio) of every candidate form one family
of tests, Holm-corrected (family-wise error). The other tests (secondary quality metrics,
retrieval, the other latency ratios and the error rate, every candidate's) form a second
family, Benjamini-Hochberg adjusted (false discovery rate 5%): about nine per candidate would
otherwise call one spurious difference in every few runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from workbench.records.evalset import Question
from workbench.records.responses import ResponseRecord, latest_attempts
from workbench.report.models import (
    ERROR,
    TIE,
    UNPAIRED,
    Comparison,
    Outcome,
    Power,
    QuestionRow,
    StackSummary,
    Wins,
)
from workbench.report.summaries import stack_summary
from workbench.report.verdict import PRIMARY_LATENCY, PRIMARY_QUALITY, metric_verdict
from workbench.scoring.base import Metric, Sample
from workbench.scoring.judge import Judge
from workbench.scoring.latency import LatencyScorer, latency_scorers
from workbench.scoring.semantic import Embedder
from workbench.scoring.stats import (
    LATENCY_TIE,
    Interval,
    PairedBootstrap,
    benjamini_hochberg,
    holm,
    is_zero_one,
    mcnemar,
    median_ratio,
    min_detectable_difference,
    outcomes,
    paired_proportion_diff,
    sign_flip_test,
)
from workbench.scoring.suite import default_scorers, retrieval_ks

ERROR_RATE = Metric("error_rate", "Error rate", "latency",
                    "share of requests that failed (status error or timeout)",
                    binary=True, higher_is_better=False)
#: A p95 from fewer pairs is too noisy to compare (it flipped between identical runs of 68).
P95_MIN_PAIRS = 200
ALPHA = 0.05


@dataclass
class Scored:
    """What `score` hands back to `build_scorecard`."""

    summaries: dict[str, StackSummary]
    comparisons: list[Comparison]
    rows: list[QuestionRow]
    wins_f1: list[Wins]
    wins_e2e: list[Wins]
    power: list[Power]
    n_pairs: int
    n_unpaired: int
    definitions: dict[str, str]
    holm_family: int
    bh_family: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else None


def _favours(estimate: float, higher_is_better: bool, base: str, cand: str) -> str:
    return cand if (estimate > 0) == higher_is_better else base


def _compare_mean(metric: Metric, a: np.ndarray, b: np.ndarray, base: str, cand: str,
                  boot: PairedBootstrap, statistic: str = "mean") -> Comparison:
    mask = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[mask], b[mask]
    # 0/1 outcomes (hit@k, exact match, the error rate, and F1 when every answer scores 0
    # or 1): a score interval, where the bootstrap of a few distinct (or mostly zero)
    # differences covers too rarely (an all-0/1 F1 difference: 0.920 at n=30).
    iv = (paired_proportion_diff(a > 0.5, b > 0.5, boot.confidence) if is_zero_one(a, b)
          else boot.mean_diff(a, b))
    c = Comparison(
        key=metric.key, metric=metric.key, label=metric.label, section=metric.section,
        statistic=statistic, unit=metric.unit,  # type: ignore[arg-type]
        higher_is_better=metric.higher_is_better, baseline=base, candidate=cand,
        n_pairs=int(a.size), baseline_value=_mean(a), candidate_value=_mean(b),
        diff=_num(iv.estimate), ci_low=_num(iv.low), ci_high=_num(iv.high),
        significant=False, better=None, verdict="",
    )
    if metric.binary and a.size:
        test = mcnemar(a > 0.5, b > 0.5)
        c.p_value, c.test = test.p_value, f"McNemar {test.method}"
        c.baseline_only, c.candidate_only = test.a_only, test.b_only
    elif a.size:
        c.p_value, c.test = sign_flip_test(b - a), "paired sign-flip permutation"
    _decide(c, iv)
    return c


def _decide(c: Comparison, iv: Interval) -> None:
    """Called only when the CI excludes 0 AND the paired test (Holm-adjusted for primary
    metrics, Benjamini-Hochberg for the others once adjusted) is below alpha: a bootstrap
    CI alone is too narrow with few pairs."""
    p = c.p_holm if c.primary else (c.p_bh if c.p_bh is not None else c.p_value)
    c.significant = iv.significant and p is not None and not math.isnan(p) and p < ALPHA
    c.better = (_favours(iv.estimate, c.higher_is_better, c.baseline, c.candidate)
                if c.significant else None)
    c.verdict = metric_verdict(c)


def _compare_ratio(scorer: LatencyScorer, a: np.ndarray, b: np.ndarray, base: str,
                   cand: str, boot: PairedBootstrap) -> Comparison | None:
    m = scorer.metric
    summary = median_ratio(boot, a, b, higher_is_better=m.higher_is_better)
    if summary is None:
        return None
    iv = summary.ratio
    mask = np.isfinite(a) & np.isfinite(b)
    c = Comparison(
        key=f"{m.key}.ratio", metric=m.key, label=f"{m.label} (paired median ratio)",
        section="latency", statistic="ratio", unit=m.unit,
        higher_is_better=m.higher_is_better, baseline=base, candidate=cand,
        n_pairs=summary.n, baseline_value=float(np.median(a[mask])),
        candidate_value=float(np.median(b[mask])), diff=None, ci_low=None, ci_high=None,
        rel_pct=_num(iv.estimate), rel_ci_low=_num(iv.low), rel_ci_high=_num(iv.high),
        share_better=summary.better / summary.n, p_value=summary.p_value,
        test="sign test on the pairs' direction", significant=False, better=None, verdict="",
    )
    _decide(c, iv)
    return c


def _compare_p95(scorer: LatencyScorer, a: np.ndarray, b: np.ndarray, base: str, cand: str,
                 boot: PairedBootstrap) -> Comparison:
    m = scorer.metric
    mask = np.isfinite(a) & np.isfinite(b)
    a, b = a[mask], b[mask]
    [(absolute, rel)] = boot.percentile_diff(a, b, (95.0,))
    decided = rel if rel is not None else absolute
    c = Comparison(
        key=f"{m.key}.p95", metric=m.key, label=f"{m.label} p95", section="latency",
        statistic="p95", unit=m.unit, higher_is_better=m.higher_is_better, baseline=base,
        candidate=cand, n_pairs=int(a.size), baseline_value=float(np.percentile(a, 95)),
        candidate_value=float(np.percentile(b, 95)), diff=_num(absolute.estimate),
        ci_low=_num(absolute.low), ci_high=_num(absolute.high),
        rel_pct=_num(rel.estimate) if rel else None, rel_ci_low=_num(rel.low) if rel else None,
        rel_ci_high=_num(rel.high) if rel else None, significant=decided.significant,
        better=(_favours(decided.estimate, m.higher_is_better, base, cand)
                if decided.significant else None), verdict="",
    )
    c.verdict = metric_verdict(c)
    return c


def _wins(base: str, cand: str, results: list[Outcome]) -> Wins:
    return Wins(baseline=base, candidate=cand, baseline_wins=results.count(base),
                candidate_wins=results.count(cand), ties=results.count(TIE),
                errors=results.count(ERROR))


def _pair_outcomes(ok: np.ndarray, a: np.ndarray, b: np.ndarray, higher_is_better: bool,
                   rel_tol: float, base: str, cand: str) -> list[Outcome]:
    decided = outcomes(np.nan_to_num(a), np.nan_to_num(b), higher_is_better=higher_is_better,
                       rel_tol=rel_tol)
    names = {"A": base, "B": cand, "tie": TIE}
    return [names[d] if good else ERROR for d, good in zip(decided, ok, strict=True)]


def _latest(questions: list[Question], responses: list[ResponseRecord], stacks: list[str]
            ) -> tuple[dict[tuple[str, str], ResponseRecord], int, list[str]]:
    qids = {q.id for q in questions}
    unknown = sum(r.question_id not in qids for r in responses)
    extra = sorted({r.stack for r in responses if r.question_id in qids and r.stack not in stacks})
    # Records usually arrive latest-only from the store; keep the highest attempt anyway.
    latest = latest_attempts(r for r in responses if r.question_id in qids and r.stack in stacks)
    return latest, unknown, extra


def score(questions: list[Question], responses: list[ResponseRecord], *, stacks: list[str],
          baseline: str, semantic: bool, judge: Judge | None, embedder: Embedder | None,
          resamples: int, seed: int) -> Scored:
    """Score every stack and compare each candidate with the baseline (see
    `workbench.report.scorecard`)."""
    latest, unknown, extra = _latest(questions, responses, stacks)
    samples = {s: [Sample(q, latest[(s, q.id)]) for q in questions if (s, q.id) in latest]
               for s in stacks}
    combined = [x for s in stacks for x in samples[s]]
    scorers = default_scorers(retrieval_ks(list(latest.values())), semantic=semantic,
                              judge=judge, embedder=embedder)
    lat = latency_scorers()
    # Every stack in one call, so embeddings and judge calls are batched and deduplicated.
    all_values = {sc.metric.key: np.array(sc(combined), dtype=np.float64)
                  for sc in [*scorers, *lat]}
    values: dict[str, dict[str, np.ndarray]] = {}
    start = 0
    for s in stacks:
        n = len(samples[s])
        values[s] = {k: v[start:start + n] for k, v in all_values.items()}
        start += n
    ok = {s: np.array([x.ok for x in samples[s]], dtype=bool) for s in stacks}
    pos = {s: {x.question.id: i for i, x in enumerate(samples[s])} for s in stacks}
    boot = PairedBootstrap(resamples=resamples, seed=seed)
    candidates = [s for s in stacks if s != baseline]

    comparisons: list[Comparison] = []
    outcome: dict[str, dict[str, tuple[Outcome, Outcome]]] = {}
    wins_f1, wins_e2e, power = [], [], []
    notes: list[str] = []
    for cand in candidates:
        paired = [q.id for q in questions if q.id in pos[baseline] and q.id in pos[cand]]
        ia = np.array([pos[baseline][q] for q in paired], dtype=np.int64)
        ib = np.array([pos[cand][q] for q in paired], dtype=np.int64)
        va, vb = values[baseline], values[cand]
        for sc in scorers:
            c = _compare_mean(sc.metric, va[sc.metric.key][ia], vb[sc.metric.key][ib],
                              baseline, cand, boot)
            c.primary = sc.metric.key == PRIMARY_QUALITY
            comparisons.append(c)
        both_ok = ok[baseline][ia] & ok[cand][ib]
        for sc in lat:
            la = np.where(both_ok, va[sc.metric.key][ia], np.nan)
            lb = np.where(both_ok, vb[sc.metric.key][ib], np.nan)
            ratio = _compare_ratio(sc, la, lb, baseline, cand, boot)
            if ratio is not None:
                ratio.primary = ratio.key == PRIMARY_LATENCY
                comparisons.append(ratio)
            if sc.metric.key == "e2e":
                n_lat = int((np.isfinite(la) & np.isfinite(lb)).sum())
                if n_lat >= P95_MIN_PAIRS:
                    comparisons.append(_compare_p95(sc, la, lb, baseline, cand, boot))
                elif cand == candidates[0]:
                    notes.append(f"p95 E2E is not compared: {n_lat} successful pairs, and a "
                                 f"p95 needs at least {P95_MIN_PAIRS} to be stable (the per-"
                                 "stack p95 below is descriptive)")
        comparisons.append(_compare_mean(ERROR_RATE, (~ok[baseline][ia]).astype(float),
                                         (~ok[cand][ib]).astype(float), baseline, cand, boot,
                                         statistic="rate"))
        f1_out = _pair_outcomes(both_ok, va["f1"][ia], vb["f1"][ib], True, 0.0, baseline, cand)
        e2e_out = _pair_outcomes(both_ok, va["e2e"][ia], vb["e2e"][ib], False, LATENCY_TIE,
                                 baseline, cand)
        wins_f1.append(_wins(baseline, cand, f1_out))
        wins_e2e.append(_wins(baseline, cand, e2e_out))
        outcome[cand] = {q: (f, e) for q, f, e in zip(paired, f1_out, e2e_out, strict=True)}
        power.append(_power(boot, va["f1"][ia], vb["f1"][ib], cand, len(candidates)))

    family = _apply_holm(comparisons)
    bh_family = _apply_bh(comparisons)
    rows = _rows(questions, stacks, samples, values, pos, outcome,
                 [sc.metric.key for sc in scorers])
    all_pos = [set(p) for p in pos.values()]
    every = set.intersection(*all_pos) if all_pos else set()
    some = set.union(*all_pos) if all_pos else set()
    warnings = _data_warnings(questions, stacks, pos, len(every), unknown, extra)
    definitions = {sc.metric.key: sc.metric.definition for sc in [*scorers, *lat]}
    definitions[ERROR_RATE.key] = ERROR_RATE.definition
    aliases = dict(zip(stacks, "AB", strict=False)) if len(stacks) == 2 else {}
    return Scored(
        summaries={s: stack_summary(s, aliases.get(s, ""), s == baseline, samples[s], values[s],
                               scorers, lat, boot) for s in stacks},
        comparisons=comparisons, rows=rows, wins_f1=wins_f1, wins_e2e=wins_e2e, power=power,
        n_pairs=len(every), n_unpaired=len(some - every), definitions=definitions,
        holm_family=family, bh_family=bh_family, warnings=warnings, notes=notes,
    )


def _apply_holm(comparisons: list[Comparison]) -> int:
    """Holm-adjust the primary comparisons' p-values together and decide them again."""
    family = [c for c in comparisons if c.primary and c.p_value is not None
              and not math.isnan(c.p_value)]
    for c, adjusted in zip(family, holm([c.p_value for c in family if c.p_value is not None]),
                           strict=True):
        c.p_holm = adjusted
        _decide(c, _interval_of(c))
    return len(family)


def _apply_bh(comparisons: list[Comparison]) -> int:
    """Benjamini-Hochberg-adjust every other tested comparison of the run together (p95
    differences have no test: they are decided by their CI, with 200 pairs at least)."""
    family = [c for c in comparisons if not c.primary and c.p_value is not None
              and not math.isnan(c.p_value)]
    adjusted = benjamini_hochberg([c.p_value for c in family if c.p_value is not None])
    for c, p in zip(family, adjusted, strict=True):
        c.p_bh = p
        _decide(c, _interval_of(c))
    return len(family)


def _interval_of(c: Comparison) -> Interval:
    lo, hi = ((c.rel_ci_low, c.rel_ci_high) if c.statistic == "ratio"
              else (c.ci_low, c.ci_high))
    est = c.rel_pct if c.statistic == "ratio" else c.diff
    return Interval(est if est is not None else math.nan,
                    lo if lo is not None else math.nan, hi if hi is not None else math.nan)


def _power(boot: PairedBootstrap, a: np.ndarray, b: np.ndarray, cand: str,
           n_candidates: int) -> Power:
    # Holm's strictest step is alpha / m over the family (2 primary metrics per candidate):
    # the conservative level at which the first rejection must happen.
    alpha = ALPHA / (2 * n_candidates)
    mask = ~np.isnan(a) & ~np.isnan(b)
    n = int(mask.sum())
    mde = min_detectable_difference(boot, a[mask], b[mask], alpha=alpha)
    text = (f"with {n} pairs, differences in F1 under ±{mde:.3f} are not reliably "
            f"detectable (80% power, two-sided alpha {alpha:.3g})" if mde is not None
            else f"with {n} pairs the smallest detectable F1 difference cannot be estimated")
    return Power(candidate=cand, metric=PRIMARY_QUALITY, n_pairs=n, mde=mde, alpha=alpha,
                 text=text)


def _rows(questions: list[Question], stacks: list[str], samples: dict[str, list[Sample]],
          values: dict[str, dict[str, np.ndarray]], pos: dict[str, dict[str, int]],
          outcome: dict[str, dict[str, tuple[Outcome, Outcome]]],
          keys: list[str]) -> list[QuestionRow]:
    rows = []
    # Plain lists: indexing numpy scalars one by one is slower than converting once.
    cols = {s: {k: [_num(x) for x in values[s][k].tolist()] for k in [*keys, "e2e"]}
            for s in stacks}
    for q in questions:
        at = {s: pos[s].get(q.id) for s in stacks}
        if all(i is None for i in at.values()):
            continue
        recs = {s: samples[s][i].response if i is not None else None for s, i in at.items()}
        rows.append(QuestionRow.model_construct(
            question_id=q.id, question=q.question, lang=q.lang, answerable=q.answerable,
            gold=list(q.answers),
            answers={s: r.answer if r else None for s, r in recs.items()},
            status={s: r.status if r else None for s, r in recs.items()},
            scores={s: ({k: cols[s][k][i] for k in keys} if i is not None else {})
                    for s, i in at.items()},
            e2e={s: cols[s]["e2e"][i] if i is not None else None for s, i in at.items()},
            outcome={c: o.get(q.id, (UNPAIRED, UNPAIRED))[0] for c, o in outcome.items()},
            latency_outcome={c: o.get(q.id, (UNPAIRED, UNPAIRED))[1]
                             for c, o in outcome.items()},
        ))
    return rows


def _data_warnings(questions: list[Question], stacks: list[str], pos: dict[str, dict[str, int]],
                   n_pairs: int, unknown: int, extra: list[str]) -> list[str]:
    warnings = [f"{s} has no responses: nothing to compare" for s in stacks if not pos[s]]
    union = set().union(*(set(p) for p in pos.values()))
    for s in stacks:
        missing = len(union - set(pos[s]))
        if pos[s] and missing:
            warnings.append(f"{missing} question(s) answered by other stacks but not by {s}: "
                            f"left out of {s}'s paired comparisons")
    missing = sum(1 for q in questions if q.id not in union)
    if missing:
        warnings.append(f"{missing} of {len(questions)} question(s) have no response yet")
    if unknown:
        warnings.append(f"{unknown} response(s) name questions not in the eval set: ignored")
    if extra:
        warnings.append(f"responses from stacks not in the run ({', '.join(extra)}): ignored")
    if 0 < n_pairs < 30:
        warnings.append(f"only {n_pairs} questions answered by every stack: confidence "
                        "intervals are wide")
    return warnings
