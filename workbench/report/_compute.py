"""The arithmetic behind `build_scorecard`: apply the scorers to both sides at once, then
summarise each side and compare the pairs. Kept apart from the data model so each stays
small; nothing here is public."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from workbench.evalsets.model import Question
from workbench.report.models import Comparison, Outcome, QuestionRow, SideSummary, Wins
from workbench.report.verdict import metric_verdict
from workbench.runner.records import ResponseRecord
from workbench.scoring.base import Metric, Sample, Scorer
from workbench.scoring.judge import Judge
from workbench.scoring.latency import LatencyScorer, latency_scorers, summarize
from workbench.scoring.semantic import Embedder
from workbench.scoring.stats import Interval, PairedBootstrap, mcnemar, outcomes, sign_flip_test
from workbench.scoring.suite import default_scorers, retrieval_ks

SIDES = ("A", "B")
ERROR_RATE = Metric("error_rate", "Error rate", "latency",
                    "share of requests that failed (status error or timeout)",
                    binary=True, higher_is_better=False)
_LATENCY_TIE = 0.05


@dataclass
class Scored:
    """What `score` hands back to `build_scorecard`."""

    sides: dict[str, SideSummary]
    comparisons: list[Comparison]
    rows: list[QuestionRow]
    wins_f1: Wins
    wins_e2e: Wins
    n_pairs: int
    n_unpaired: int
    definitions: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else None


def _better(interval: Interval, higher_is_better: bool, significant: bool | None = None
            ) -> str | None:
    if not (interval.significant if significant is None else significant):
        return None
    return "B" if (interval.estimate > 0) == higher_is_better else "A"


def _compare_mean(metric: Metric, a: np.ndarray, b: np.ndarray,
                  boot: PairedBootstrap, statistic: str = "mean") -> Comparison:
    mask = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[mask], b[mask]
    iv = boot.mean_diff(a, b)
    c = Comparison(
        key=metric.key, metric=metric.key, label=metric.label, section=metric.section,
        statistic=statistic, unit=metric.unit,  # type: ignore[arg-type]
        higher_is_better=metric.higher_is_better, n_pairs=int(a.size),
        a=_mean(a), b=_mean(b), diff=_num(iv.estimate), ci_low=_num(iv.low),
        ci_high=_num(iv.high), significant=iv.significant,
        better=_better(iv, metric.higher_is_better), verdict="",  # type: ignore[arg-type]
    )
    if metric.binary and a.size:
        test = mcnemar(a > 0.5, b > 0.5)
        c.p_value, c.test, c.a_only, c.b_only = test.p_value, f"McNemar {test.method}", \
            test.a_only, test.b_only
    elif a.size:
        c.p_value, c.test = sign_flip_test(b - a), "paired sign-flip permutation"
    if c.p_value is not None and not math.isnan(c.p_value):
        # Called only when the CI excludes 0 AND the paired test agrees (small-n guard).
        c.significant = iv.significant and c.p_value < 0.05
        c.better = _better(iv, metric.higher_is_better, c.significant)  # type: ignore[assignment]
    c.verdict = metric_verdict(c)
    return c


def _compare_latency(scorer: LatencyScorer, a: np.ndarray, b: np.ndarray,
                     boot: PairedBootstrap) -> list[Comparison]:
    m = scorer.metric
    mask = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[mask], b[mask]
    result = []
    for q, (absolute, rel) in zip((50, 95), boot.percentile_diff(a, b, (50.0, 95.0)),
                                  strict=True):
        decided = rel if rel is not None else absolute
        c = Comparison(
            key=f"{m.key}.p{q}", metric=m.key, label=f"{m.label} p{q}", section="latency",
            statistic=f"p{q}", unit=m.unit,  # type: ignore[arg-type]
            higher_is_better=m.higher_is_better, n_pairs=int(a.size),
            a=float(np.percentile(a, q)) if a.size else None,
            b=float(np.percentile(b, q)) if b.size else None,
            diff=_num(absolute.estimate), ci_low=_num(absolute.low), ci_high=_num(absolute.high),
            rel_pct=_num(rel.estimate) if rel else None, rel_ci_low=_num(rel.low) if rel else None,
            rel_ci_high=_num(rel.high) if rel else None, significant=decided.significant,
            better=_better(decided, m.higher_is_better), verdict="",  # type: ignore[arg-type]
        )
        c.verdict = metric_verdict(c)
        result.append(c)
    return result


def _side_summary(side: str, samples: list[Sample], values: dict[str, np.ndarray],
                  scorers: Sequence[Scorer], lat: Sequence[LatencyScorer]) -> SideSummary:
    records = [s.response for s in samples]
    failed = [r for r in records if r.status != "ok"]

    def common(attr: str) -> str:
        found = Counter(str(getattr(r, attr)) for r in records).most_common(1)
        return found[0][0] if found else ""

    by_section: dict[str, dict[str, float | None]] = {"quality": {}, "retrieval": {}}
    for sc in scorers:
        by_section[sc.metric.section][sc.metric.key] = _mean(values[sc.metric.key])
    return SideSummary(
        side=side, stack=common("stack"), model=common("model"),  # type: ignore[arg-type]
        engine=common("engine"), responses=len(records), ok=len(records) - len(failed),
        errors=len(failed), error_rate=len(failed) / len(records) if records else None,
        error_kinds=dict(Counter(r.status for r in failed)),
        error_examples=list(dict.fromkeys((r.error or r.status)[:200] for r in failed))[:3],
        quality=by_section["quality"], retrieval=by_section["retrieval"],
        counts={k: int((~np.isnan(v)).sum()) for k, v in values.items()},
        latency={sc.metric.key: summarize(sc.distribution(samples)) for sc in lat},
    )


def _wins(results: list[Outcome]) -> Wins:
    return Wins(a_wins=results.count("A"), b_wins=results.count("B"),
                ties=results.count("tie"), errors=results.count("error"))


def _pair_outcomes(ok: np.ndarray, a: np.ndarray, b: np.ndarray, higher_is_better: bool,
                   rel_tol: float) -> list[Outcome]:
    decided = outcomes(np.nan_to_num(a), np.nan_to_num(b), higher_is_better=higher_is_better,
                       rel_tol=rel_tol)
    return [d if good else "error" for d, good in zip(decided, ok, strict=True)]


def score(questions: list[Question], responses: list[ResponseRecord], *, semantic: bool,
          judge: Judge | None, embedder: Embedder | None, resamples: int,
          seed: int) -> Scored:
    """Score both sides and compare them (see `workbench.report.scorecard`)."""
    qmap = {q.id: q for q in questions}
    latest: dict[tuple[str, str], ResponseRecord] = {}
    unknown = 0
    for r in responses:
        if r.question_id not in qmap:
            unknown += 1
            continue
        key = (r.side, r.question_id)
        if key not in latest or r.attempt >= latest[key].attempt:
            latest[key] = r
    samples = {s: [Sample(q, latest[(s, q.id)]) for q in questions if (s, q.id) in latest]
               for s in SIDES}
    combined = samples["A"] + samples["B"]
    scorers = default_scorers(retrieval_ks(list(latest.values())), semantic=semantic,
                              judge=judge, embedder=embedder)
    lat = latency_scorers()
    # Both sides in one call, so embeddings and judge calls are batched and deduplicated.
    all_values = {sc.metric.key: np.array(sc(combined), dtype=np.float64)
                  for sc in [*scorers, *lat]}
    n_a = len(samples["A"])
    values = {"A": {k: v[:n_a] for k, v in all_values.items()},
              "B": {k: v[n_a:] for k, v in all_values.items()}}
    ok = {s: np.array([x.ok for x in samples[s]], dtype=bool) for s in SIDES}
    pos = {s: {x.question.id: i for i, x in enumerate(samples[s])} for s in SIDES}
    paired = [q.id for q in questions if q.id in pos["A"] and q.id in pos["B"]]
    ia = np.array([pos["A"][q] for q in paired], dtype=np.int64)
    ib = np.array([pos["B"][q] for q in paired], dtype=np.int64)
    boot = PairedBootstrap(resamples=resamples, seed=seed)

    comparisons = [_compare_mean(sc.metric, values["A"][sc.metric.key][ia],
                                 values["B"][sc.metric.key][ib], boot) for sc in scorers]
    both_ok = ok["A"][ia] & ok["B"][ib]
    for sc in lat:
        va, vb = values["A"][sc.metric.key][ia], values["B"][sc.metric.key][ib]
        comparisons += _compare_latency(sc, np.where(both_ok, va, np.nan),
                                        np.where(both_ok, vb, np.nan), boot)
    comparisons.append(_compare_mean(ERROR_RATE, (~ok["A"][ia]).astype(float),
                                     (~ok["B"][ib]).astype(float), boot, statistic="rate"))

    f1_out = _pair_outcomes(both_ok, values["A"]["f1"][ia], values["B"]["f1"][ib], True, 0.0)
    e2e_out = _pair_outcomes(both_ok, values["A"]["e2e"][ia], values["B"]["e2e"][ib], False,
                             _LATENCY_TIE)
    outcome = {q: (f, e) for q, f, e in zip(paired, f1_out, e2e_out, strict=True)}
    rows = _rows(questions, samples, values, pos, outcome, [sc.metric.key for sc in scorers])
    warnings = _data_warnings(questions, pos, len(paired), unknown)
    definitions = {sc.metric.key: sc.metric.definition for sc in [*scorers, *lat]}
    definitions[ERROR_RATE.key] = ERROR_RATE.definition
    return Scored(
        sides={s: _side_summary(s, samples[s], values[s], scorers, lat) for s in SIDES},
        comparisons=comparisons, rows=rows, wins_f1=_wins(f1_out), wins_e2e=_wins(e2e_out),
        n_pairs=len(paired), n_unpaired=len(pos["A"].keys() ^ pos["B"].keys()),
        definitions=definitions, warnings=warnings,
    )


def _rows(questions: list[Question], samples: dict[str, list[Sample]],
          values: dict[str, dict[str, np.ndarray]], pos: dict[str, dict[str, int]],
          outcome: dict[str, tuple[Outcome, Outcome]], keys: list[str]) -> list[QuestionRow]:
    rows = []
    # Plain lists: indexing numpy scalars one by one is slower than converting once.
    cols = {s: {k: [_num(x) for x in values[s][k].tolist()] for k in [*keys, "e2e"]}
            for s in SIDES}
    for q in questions:
        i, j = pos["A"].get(q.id), pos["B"].get(q.id)
        if i is None and j is None:
            continue
        ra = samples["A"][i].response if i is not None else None
        rb = samples["B"][j].response if j is not None else None
        f1_out, e2e_out = outcome.get(q.id, ("unpaired", "unpaired"))
        rows.append(QuestionRow.model_construct(
            question_id=q.id, question=q.question, lang=q.lang, answerable=q.answerable,
            gold=list(q.answers), answer_a=ra.answer if ra else None,
            answer_b=rb.answer if rb else None, status_a=ra.status if ra else None,
            status_b=rb.status if rb else None,
            scores_a={k: cols["A"][k][i] for k in keys} if i is not None else {},
            scores_b={k: cols["B"][k][j] for k in keys} if j is not None else {},
            e2e_a=cols["A"]["e2e"][i] if i is not None else None,
            e2e_b=cols["B"]["e2e"][j] if j is not None else None,
            outcome=f1_out, latency_outcome=e2e_out,
        ))
    return rows


def _data_warnings(questions: list[Question], pos: dict[str, dict[str, int]], n_pairs: int,
                   unknown: int) -> list[str]:
    warnings = []
    for side in SIDES:
        if not pos[side]:
            warnings.append(f"side {side} has no responses: nothing to compare")
    only = {s: len(pos[s].keys() - pos["B" if s == "A" else "A"].keys()) for s in SIDES}
    for side, n in only.items():
        if n:
            warnings.append(f"{n} question(s) answered by side {side} only: left out of the "
                            "paired comparison")
    missing = sum(1 for q in questions if q.id not in pos["A"] and q.id not in pos["B"])
    if missing:
        warnings.append(f"{missing} of {len(questions)} question(s) have no response yet")
    if unknown:
        warnings.append(f"{unknown} response(s) name questions not in the eval set: ignored")
    if 0 < n_pairs < 30:
        warnings.append(f"only {n_pairs} paired questions: confidence intervals are wide")
    return warnings
