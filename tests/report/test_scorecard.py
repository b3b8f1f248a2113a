"""`build_scorecard` on synthetic paired records with known outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.report import ScoreCard, build_scorecard
from workbench.runner.records import ResponseRecord

N = 120


def _run(*, b_answer: object = None, b_speed: float = 1.0, b_errors: int = 0,
         seed: int = 0) -> tuple[list, list[ResponseRecord]]:  # type: ignore[type-arg]
    """N questions (every 6th unanswerable); A's answers right two times in three."""
    rng = np.random.default_rng(seed)
    questions, records = [], []
    for i in range(N):
        q = question(f"q{i}", [f"answer {i}"], answerable=i % 6 != 0)
        questions.append(q)
        right = i % 3 != 0
        a = (f"answer {i}" if right else "something else") if q.answerable else (
            "I don't know" if right else "answer 5")
        b = b_answer(i, a) if callable(b_answer) else a
        docs = [f"q{i}-doc", "x", "y"] if right else ["x", "y", f"q{i}-doc"]
        ttft, itl = rng.lognormal(-1.5, 0.3), rng.lognormal(-3.5, 0.2)
        records.append(record(q.id, "A", a, ttft=ttft, itl=itl, docs=docs))
        records.append(record(q.id, "B", b, ttft=ttft * b_speed, itl=itl * b_speed,
                              docs=docs, status="error" if i < b_errors else "ok"))
    return questions, records


def _card(**kwargs: object) -> ScoreCard:
    questions, records = _run(**kwargs)  # type: ignore[arg-type]
    return build_scorecard(questions, records, semantic=False)


def test_identical_sides_have_no_significant_quality_difference() -> None:
    card = _card()
    assert card.n_pairs == N and card.n_unpaired == 0
    assert "no significant quality difference" in card.verdict
    assert not card.quality_difference
    for c in card.comparisons:
        if c.section in ("quality", "retrieval"):
            assert c.diff == 0.0 and c.ci_low == 0.0 and c.ci_high == 0.0, c.key
            assert not c.significant and c.verdict == "no significant difference"
    f1 = card.comparison("f1")
    assert f1.a == pytest.approx(2 / 3) and f1.b == f1.a
    assert card.comparison("exact_match").p_value == 1.0
    assert card.wins_f1.ties == N and card.wins_f1.a_wins == card.wins_f1.b_wins == 0


def test_b_clearly_faster() -> None:
    card = _card(b_speed=0.6)
    p95 = card.comparison("e2e.p95")
    assert p95.better == "B" and p95.significant
    assert p95.rel_pct == pytest.approx(-40.0)
    assert p95.rel_ci_high is not None and p95.rel_ci_high < 0
    assert card.verdict.startswith("B is faster: p95 E2E -40%")
    assert "no significant quality difference" in card.verdict
    assert card.comparison("ttft.p50").verdict == "B is faster"
    assert card.comparison("tok_s.p50").better == "B"  # a rate: higher is better
    assert card.wins_e2e.b_wins == N


def test_b_clearly_better_answers() -> None:
    def fixed(i: int, a: str) -> str:
        return f"answer {i}" if i % 6 else "I don't know"

    card = _card(b_answer=fixed)
    f1 = card.comparison("f1")
    assert f1.better == "B" and f1.ci_low is not None and f1.ci_low > 0
    assert f1.b == 1.0
    em = card.comparison("exact_match")
    assert em.b_only == N // 3 and em.a_only == 0 and em.p_value is not None
    assert em.p_value < 1e-6
    assert "B answers better: F1 +0.333" in card.verdict
    assert card.quality_difference
    assert card.wins_f1.b_wins == N // 3 and card.wins_f1.ties == N - N // 3


def test_errors_are_wrong_answers_and_not_latency() -> None:
    card = _card(b_errors=12)
    b = card.sides["B"]
    assert (b.responses, b.errors, b.ok) == (N, 12, N - 12)
    assert b.error_rate == pytest.approx(0.1) and b.error_kinds == {"error": 12}
    assert b.error_examples == ["boom"]
    assert b.latency["e2e"].n == N - 12 and card.sides["A"].latency["e2e"].n == N
    assert card.comparison("e2e.p50").n_pairs == N - 12
    err = card.comparison("error_rate")
    assert err.a == 0.0 and err.b == pytest.approx(0.1) and err.better == "A"
    assert card.comparison("f1").b is not None
    assert card.comparison("f1").b < card.comparison("f1").a  # type: ignore[operator]
    assert card.wins_f1.errors == 12
    assert "errors: A 0.0%, B 10.0%" in card.verdict
    rows = {r.question_id: r for r in card.rows}
    assert rows["q0"].outcome == "error" and rows["q0"].scores_b["f1"] == 0.0


def test_latest_attempt_counts_and_unpaired_questions_warn() -> None:
    questions, records = _run()
    retry = record("q1", "B", "something else", attempt=2)
    extra = record("q2", "A", "answer 2")
    records = [r for r in records if not (r.question_id == "q2" and r.side == "B")]
    records += [retry, record("nope", "A", "x")]
    card = build_scorecard(questions, records, semantic=False)
    rows = {r.question_id: r for r in card.rows}
    assert rows["q1"].answer_b == "something else" and rows["q1"].outcome == "A"
    assert rows["q2"].outcome == "unpaired" and card.n_unpaired == 1
    assert any("answered by side A only" in w for w in card.warnings)
    assert any("not in the eval set" in w for w in card.warnings)
    assert extra.answer == rows["q2"].answer_a


def test_sides_and_retrieval_summaries() -> None:
    card = _card()
    a = card.sides["A"]
    assert a.stack == "stack-a" and a.engine == "llamacpp"
    # Answerable questions: gold first when A is right (i % 3 != 0), else third of three.
    answerable = [i for i in range(N) if i % 6]
    hit1 = np.mean([i % 3 != 0 for i in answerable])
    assert a.retrieval["hit@1"] == pytest.approx(hit1)
    assert a.retrieval["hit@3"] == 1.0
    assert a.counts["hit@1"] == len(answerable)
    assert "hit@5" not in a.retrieval  # only three sources were retrieved
    # A never refuses: right on every answerable question, wrong on every unanswerable one.
    assert a.quality["refusal"] == pytest.approx(len(answerable) / N)


def test_json_round_trip() -> None:
    card = _card(b_speed=0.8)
    again = ScoreCard.model_validate_json(card.model_dump_json())
    assert again.verdict == card.verdict
    assert again.rows[5].scores_a == card.rows[5].scores_a
    assert again.comparison("e2e.p95").rel_pct == card.comparison("e2e.p95").rel_pct


def test_one_sided_and_empty_runs_do_not_crash() -> None:
    questions, records = _run()
    only_a = build_scorecard(questions, [r for r in records if r.side == "A"], semantic=False)
    assert only_a.n_pairs == 0 and only_a.sides["B"].responses == 0
    assert only_a.comparison("f1").verdict == "not enough pairs"
    assert any("side B has no responses" in w for w in only_a.warnings)
    empty = build_scorecard(questions, [], semantic=False)
    assert empty.rows == [] and empty.sides["A"].error_rate is None
