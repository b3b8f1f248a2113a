"""How far to trust the judge, stated beside its scores.

- Agreement: on questions with gold answers, the judge's "correct" against token F1 >= 0.5
  (the lexical metric's own verdict), as raw agreement and Cohen's kappa with its 95% BCa
  interval (a bootstrap over questions: every stack's answer to one question is judged
  against the same gold, so they are not independent), with n.
- Position bias (pairwise mode): each candidate's answer and the baseline's, judged in both
  orders (`scoring.pairwise`); the share of pairs where both orders picked the same position
  is the bias rate.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.records.evalset import Question
from workbench.records.responses import ResponseRecord, latest_attempts
from workbench.report.models import JudgeAgreement, JudgeTrust, PairwiseBias, QuestionRow
from workbench.scoring.base import Sample
from workbench.scoring.judge import Judge
from workbench.scoring.pairwise import PairwiseJudge
from workbench.scoring.stats import bca_levels

#: Token F1 at or above this counts as "right" when the judge is checked against F1.
F1_RIGHT = 0.5
RESAMPLES, SEED = 2000, 20240521


def cohen_kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters' yes/no verdicts (None when chance agreement is total)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    pa = sum(a for a, _ in pairs) / n
    pb = sum(b for _, b in pairs) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return None if chance >= 1.0 else (observed - chance) / (1.0 - chance)


def _kappa_of_tables(t: np.ndarray) -> np.ndarray:
    """Kappa of 2x2 tables laid out as (..., [yes-yes, yes-no, no-yes, no-no])."""
    n = t.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = (t[..., 0] + t[..., 3]) / n
        pa = (t[..., 0] + t[..., 1]) / n
        pb = (t[..., 0] + t[..., 2]) / n
        chance = pa * pb + (1 - pa) * (1 - pb)
        out: np.ndarray = np.where(chance < 1.0, (observed - chance) / (1.0 - chance), np.nan)
    return out


def kappa_interval(clusters: list[list[tuple[bool, bool]]], *, resamples: int = RESAMPLES,
                   seed: int = SEED) -> tuple[float | None, float | None]:
    """95% BCa interval of Cohen's kappa, resampling `clusters` (the verdict pairs of one
    question each); (None, None) with fewer than 3 clusters or no spread."""
    if len(clusters) < 3:
        return None, None
    tables = np.array([[sum(a and b for a, b in c), sum(a and not b for a, b in c),
                        sum(b and not a for a, b in c), sum(not a and not b for a, b in c)]
                       for c in clusters], dtype=np.float64)
    total = tables.sum(axis=0)
    estimate = float(_kappa_of_tables(total))
    if math.isnan(estimate):
        return None, None
    rng = np.random.default_rng([seed, len(clusters)])
    picks = rng.integers(0, len(clusters), size=(resamples, len(clusters)))
    draws = _kappa_of_tables(tables[picks].sum(axis=1))
    draws = draws[np.isfinite(draws)]
    jack = _kappa_of_tables(total[None, :] - tables)
    if draws.size < resamples // 2:
        return None, None
    low, high = bca_levels(estimate, draws, jack if np.isfinite(jack).all() else None)
    lo, hi = np.quantile(draws, [low, high])
    return float(lo), float(hi)


def agreement(rows: list[QuestionRow], stacks: list[str]) -> JudgeAgreement | None:
    """The judge's "correct" against F1 >= 0.5 over every judged answer with gold (every
    stack pooled); None when no answer with gold was judged."""
    clusters = []
    for row in rows:
        if not (row.answerable and row.gold):
            continue
        mine = []
        for stack in stacks:
            scores = row.scores.get(stack, {})
            judged, f1 = scores.get("judge_correct"), scores.get("f1")
            if judged is not None and f1 is not None and row.status.get(stack) == "ok":
                mine.append((judged > 0.5, f1 >= F1_RIGHT))
        if mine:
            clusters.append(mine)
    pairs = [p for c in clusters for p in c]
    if not pairs:
        return None
    n = len(pairs)
    low, high = kappa_interval(clusters)
    return JudgeAgreement(n=n, agreement=sum(a == b for a, b in pairs) / n,
                          kappa=cohen_kappa(pairs), kappa_ci_low=low, kappa_ci_high=high,
                          judge_correct=sum(a for a, _ in pairs) / n,
                          f1_correct=sum(b for _, b in pairs) / n)


def pairwise_bias(judge: Judge, questions: list[Question], responses: list[ResponseRecord],
                  stacks: list[str], baseline: str) -> list[PairwiseBias]:
    """Each candidate against the baseline on the judge's sample of questions where both
    answered, every pair judged in both orders."""
    latest = latest_attempts(responses)
    pj = PairwiseJudge(judge)
    every = [Sample(q, latest[(s, q.id)]) for q in questions for s in stacks
             if (s, q.id) in latest]
    chosen = judge.sampled(every)
    out = []
    for cand in (s for s in stacks if s != baseline):
        verdicts = []
        for q in questions:
            a, b = latest.get((baseline, q.id)), latest.get((cand, q.id))
            if a is None or b is None or a.status != "ok" or b.status != "ok":
                continue
            if chosen is not None and q.id not in chosen:
                continue
            v = pj.compare(Sample(q, a), Sample(q, b))
            if v.readable:
                verdicts.append(v)
        winners = [v.winner for v in verdicts]
        biased = sum(v.position_bias for v in verdicts)
        out.append(PairwiseBias(
            candidate=cand, n=len(verdicts), baseline_wins=winners.count("baseline"),
            candidate_wins=winners.count("candidate"), ties=winners.count("tie"),
            inconsistent=winners.count(None), position_bias=biased,
            position_bias_rate=biased / len(verdicts) if verdicts else None))
    return out


def judge_trust(judge: Judge, rows: list[QuestionRow], stacks: list[str],
                pairwise: list[PairwiseBias] | None = None) -> JudgeTrust:
    """What the card says about the judge itself."""
    return JudgeTrust(agreement=agreement(rows, stacks), pairwise=pairwise or [],
                      calls=judge.stats.calls, cache_hits=judge.stats.cache_hits,
                      problems=judge.stats.failures[:3])


def trust_lines(trust: JudgeTrust | None) -> list[str]:
    """The report's lines about the judge."""
    if trust is None:
        return []
    lines = []
    a = trust.agreement
    if a is not None:
        kappa = "n/a" if a.kappa is None else f"{a.kappa:.2f}"
        if a.kappa is not None and a.kappa_ci_low is not None and a.kappa_ci_high is not None:
            kappa += f", 95% CI [{a.kappa_ci_low:.2f}, {a.kappa_ci_high:.2f}]"
        lines.append(f"judge agrees with F1>={F1_RIGHT:g} on {a.agreement:.0%} of {a.n} judged "
                     f"answers with gold (Cohen's kappa {kappa})")
    for p in trust.pairwise:
        rate = "n/a" if p.position_bias_rate is None else f"{p.position_bias_rate:.0%}"
        lines.append(f"pairwise vs baseline, {p.candidate}: {p.candidate_wins} won, "
                     f"{p.baseline_wins} lost, {p.ties} tied, {p.inconsistent} flipped with "
                     f"the order; position bias {rate} of {p.n} pairs")
    lines.append(f"judge calls {trust.calls}, verdicts from the cache {trust.cache_hits}")
    lines += [f"judge problem: {p}" for p in trust.problems]
    return lines


__all__ = ["F1_RIGHT", "agreement", "cohen_kappa", "judge_trust", "kappa_interval",
           "pairwise_bias", "trust_lines"]
