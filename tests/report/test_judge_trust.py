"""How far to trust the judge: Cohen's kappa and agreement with F1 >= 0.5 on known verdicts,
and pairwise position bias through the scripted judge (both orders asked)."""

from __future__ import annotations

import pytest

from tests.report.synthetic import question, record
from tests.scoring.test_judge import RuleJudgeHandler, rule_judge  # noqa: F401
from workbench.report import build_scorecard
from workbench.report.faithfulness import faithfulness_cell
from workbench.report.judge_trust import agreement, cohen_kappa, trust_lines
from workbench.report.models import QuestionRow
from workbench.scoring.judge import Judge


def test_cohen_kappa() -> None:
    # Two raters: 20 yes/yes, 15 no/no, 5 yes/no, 10 no/yes (a textbook table).
    pairs = [(True, True)] * 20 + [(False, False)] * 15 + [(True, False)] * 5 + \
        [(False, True)] * 10
    assert cohen_kappa(pairs) == pytest.approx((0.7 - 0.5) / 0.5)
    assert cohen_kappa([(True, True)] * 4) is None  # chance agreement is total
    assert cohen_kappa([]) is None


def _row(qid: str, judged: float | None, f1: float, *, gold: bool = True) -> QuestionRow:
    return QuestionRow(question_id=qid, question="?", lang="en", answerable=True,
                       gold=["x"] if gold else [], answers={"s": "a"}, status={"s": "ok"},
                       scores={"s": {"judge_correct": judged, "f1": f1}}, e2e={"s": 1.0},
                       outcome={}, latency_outcome={})


def test_agreement_counts_only_judged_answers_with_gold() -> None:
    rows = [_row("a", 1.0, 0.8), _row("b", 0.0, 0.2), _row("c", 1.0, 0.1),
            _row("d", None, 1.0), _row("e", 1.0, 0.0, gold=False)]
    a = agreement(rows, ["s"])
    assert a is not None and a.n == 3 and a.agreement == pytest.approx(2 / 3)
    assert a.judge_correct == pytest.approx(2 / 3) and a.f1_correct == pytest.approx(1 / 3)
    assert agreement([_row("d", None, 1.0)], ["s"]) is None


def test_pairwise_position_bias_in_the_card(rule_judge: str) -> None:  # noqa: F811
    questions = [question(f"q{i}", ["Paris"]) for i in range(6)]
    records = [record(q.id, "A", "Paris.") for q in questions] + [
        record(q.id, "B", "Berlin.", start=200.0) for q in questions]
    card = build_scorecard(questions, records, semantic=False, resamples=200,
                           judge=Judge(base_url=rule_judge, model="rule"), pairwise=True)
    assert card.judge_trust is not None
    [fair] = card.judge_trust.pairwise
    assert (fair.n, fair.baseline_wins, fair.candidate_wins, fair.position_bias) == (6, 6, 0, 0)
    RuleJudgeHandler.always_first = True  # a judge that always prefers Answer 1
    biased_card = build_scorecard(
        questions, records, semantic=False, resamples=200, pairwise=True,
        judge=Judge(base_url=rule_judge, model="rule-biased"))
    assert biased_card.judge_trust is not None
    [biased] = biased_card.judge_trust.pairwise
    assert (biased.position_bias, biased.inconsistent, biased.position_bias_rate) == (6, 6, 1.0)
    text = "\n".join(trust_lines(biased_card.judge_trust))
    assert "position bias 100% of 6 pairs" in text and "6 flipped with the order" in text
    # No retrieved text: "Paris." is a claim nothing supports.
    assert faithfulness_cell(card.summaries["stack-a"]) == "0.00 (n=6)"


def test_kappa_equals_sklearn_and_has_a_question_bootstrap_interval() -> None:
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    from workbench.report.judge_trust import kappa_interval

    rng = np.random.default_rng(2)
    truth = rng.random(120) < 0.5
    judge = np.where(rng.random(120) < 0.8, truth, ~truth)  # agrees 80% of the time
    pairs = [(bool(j), bool(t)) for j, t in zip(judge, truth, strict=True)]
    kappa = cohen_kappa(pairs)
    assert kappa == pytest.approx(cohen_kappa_score(judge, truth))
    # Two stacks' verdicts per question: 60 clusters of 2.
    low, high = kappa_interval([pairs[i:i + 2] for i in range(0, 120, 2)])
    assert low is not None and high is not None and kappa is not None
    assert low < kappa < high
    # Asymptotic SE of kappa here is about 0.055: the interval spans roughly +-0.11.
    assert 0.15 < high - low < 0.35
    assert kappa_interval([pairs[:2], pairs[2:4]]) == (None, None)  # too few questions


def test_kappa_interval_shows_in_the_trust_line() -> None:
    rows = [_row(f"q{i}", float(i % 3 != 0), 0.9 if i % 4 != 0 else 0.1) for i in range(40)]
    a = agreement(rows, ["s"])
    assert a is not None and a.kappa_ci_low is not None and a.kappa_ci_high is not None
    from workbench.report.models import JudgeTrust

    line = trust_lines(JudgeTrust(agreement=a, pairwise=[], calls=0, cache_hits=0,
                                  problems=[]))[0]
    assert f"95% CI [{a.kappa_ci_low:.2f}, {a.kappa_ci_high:.2f}]" in line
