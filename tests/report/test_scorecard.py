"""`build_scorecard` on synthetic paired records with known outcomes (stacks stack-a, the
baseline, and stack-b; a third, stack-c, where a test needs N stacks)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.records.evalset import Question
from workbench.records.responses import ResponseRecord
from workbench.report import ScoreCard, build_scorecard
from workbench.scoring.stats import is_zero_one

N = 120
A, B, C = "stack-a", "stack-b", "stack-c"
Answer = Callable[[int, str], str]


def _run(*, b_answer: Answer | None = None, b_speed: float = 1.0, b_errors: int = 0,
         seed: int = 0) -> tuple[list[Question], list[ResponseRecord]]:
    """N questions (every 6th unanswerable); A's answers right two times in three."""
    rng = np.random.default_rng(seed)
    questions, records = [], []
    for i in range(N):
        q = question(f"q{i}", [f"answer {i}"], answerable=i % 6 != 0)
        questions.append(q)
        right = i % 3 != 0
        a = (f"answer {i}" if right else "something else") if q.answerable else (
            "I don't know" if right else "answer 5")
        b = b_answer(i, a) if b_answer is not None else a
        docs = [f"q{i}-doc", "x", "y"] if right else ["x", "y", f"q{i}-doc"]
        ttft, itl = rng.lognormal(-1.5, 0.3), rng.lognormal(-3.5, 0.2)
        records.append(record(q.id, "A", a, ttft=ttft, itl=itl, docs=docs))
        records.append(record(q.id, "B", b, ttft=ttft * b_speed, itl=itl * b_speed,
                              docs=docs, status="error" if i < b_errors else "ok"))
    return questions, records


def _card(**kwargs: object) -> ScoreCard:
    questions, records = _run(**kwargs)  # type: ignore[arg-type]
    return build_scorecard(questions, records, semantic=False)


def _fixed(i: int, a: str) -> str:
    """Right on every question (refuses the unanswerable ones)."""
    return f"answer {i}" if i % 6 else "I don't know"


def test_identical_stacks_have_no_significant_quality_difference() -> None:
    card = _card()
    assert card.stacks == [A, B] and card.baseline == A and card.candidates == [B]
    assert card.n_pairs == N and card.n_unpaired == 0
    assert "no significant difference in answer F1" in card.verdict
    assert not card.quality_difference
    for c in card.comparisons:
        if c.section in ("quality", "retrieval"):
            assert c.diff == 0.0, c.key
            if is_zero_one(card.summaries[card.baseline].values.get(c.key, [])):
                # 0/1 outcomes (F1 and recall@1 too here): Newcombe's score interval;
                # agreeing on every question does not prove a difference of exactly 0 (the
                # bootstrap's [0, 0] did claim it).
                assert c.ci_low is not None and c.ci_high is not None
                assert -0.05 < c.ci_low < 0.0 < c.ci_high < 0.05, c.key
            else:
                assert c.ci_low == 0.0 and c.ci_high == 0.0, c.key
            assert not c.significant and c.verdict == "no significant difference"
    f1 = card.comparison("f1")
    assert f1.baseline_value == pytest.approx(2 / 3) and f1.candidate_value == f1.baseline_value
    assert f1.primary and f1.p_holm == 1.0
    assert card.comparison("exact_match").p_value == 1.0
    [wins] = card.wins_f1
    assert wins.ties == N and wins.baseline_wins == wins.candidate_wins == 0
    assert card.label(A) == "A: stack-a"  # the letters stay as aliases for two stacks


def test_b_clearly_faster_leads_with_the_paired_ratio_not_p95() -> None:
    card = _card(b_speed=0.6)
    ratio = card.comparison("e2e.ratio")
    assert ratio.better == B and ratio.significant and ratio.primary
    assert ratio.rel_pct == pytest.approx(-40.0)
    assert ratio.rel_ci_high is not None and ratio.rel_ci_high < 0
    assert ratio.share_better == 1.0 and ratio.p_holm is not None and ratio.p_holm < 1e-6
    assert f"{B} is faster: {B} is faster on {N} of {N} questions, median E2E -40%" in card.verdict
    assert "no significant difference in answer F1" in card.verdict
    assert card.comparison("ttft.ratio").verdict == f"{B} is faster"
    assert card.comparison("tok_s.ratio").better == B  # a rate: higher is better
    assert card.wins_e2e[0].candidate_wins == N
    # 120 pairs are too few for a stable p95: described per stack, never compared.
    with pytest.raises(KeyError):
        card.comparison("e2e.p95")
    assert any("p95 E2E is not compared: 120 successful pairs" in n for n in card.notes)
    assert card.summaries[B].latency["e2e"].p95 is not None


def test_b_clearly_better_answers() -> None:
    card = _card(b_answer=_fixed)
    f1 = card.comparison("f1")
    assert f1.better == B and f1.ci_low is not None and f1.ci_low > 0
    assert f1.candidate_value == 1.0
    em = card.comparison("exact_match")
    assert em.candidate_only == N // 3 and em.baseline_only == 0 and em.p_value is not None
    assert em.p_value < 1e-6 and not em.primary and em.p_holm is None
    assert f"{B} answers better: F1 +0.333" in card.verdict
    assert card.quality_difference
    wins = card.wins_f1[0]
    assert wins.candidate_wins == N // 3 and wins.ties == N - N // 3
    [power] = card.power
    assert power.mde is not None and 0 < power.mde < 0.333 and "120 pairs" in power.text


def test_errors_are_wrong_answers_and_not_latency() -> None:
    card = _card(b_errors=12)
    b = card.summaries[B]
    assert (b.responses, b.errors, b.ok) == (N, 12, N - 12)
    assert b.error_rate == pytest.approx(0.1) and b.error_kinds == {"error": 12}
    assert b.error_examples == ["boom"]
    assert b.latency["e2e"].n == N - 12 and card.summaries[A].latency["e2e"].n == N
    assert card.comparison("e2e.ratio").n_pairs == N - 12
    err = card.comparison("error_rate")
    assert err.baseline_value == 0.0 and err.candidate_value == pytest.approx(0.1)
    assert err.better == A
    f1 = card.comparison("f1")
    assert f1.candidate_value is not None and f1.baseline_value is not None
    assert f1.candidate_value < f1.baseline_value
    assert card.wins_f1[0].errors == 12
    assert f"errors: {A} 0.0%, {B} 10.0%" in card.verdict
    rows = {r.question_id: r for r in card.rows}
    assert rows["q0"].outcome[B] == "error" and rows["q0"].scores[B]["f1"] == 0.0


def test_latest_attempt_counts_and_unpaired_questions_warn() -> None:
    questions, records = _run()
    retry = record("q1", "B", "something else", attempt=2)
    extra = record("q2", "A", "answer 2")
    records = [r for r in records if not (r.question_id == "q2" and r.stack == B)]
    records += [retry, record("nope", "A", "x")]
    card = build_scorecard(questions, records, semantic=False)
    rows = {r.question_id: r for r in card.rows}
    assert rows["q1"].answers[B] == "something else" and rows["q1"].outcome[B] == A
    assert rows["q2"].outcome[B] == "unpaired" and card.n_unpaired == 1
    assert any(f"not by {B}" in w for w in card.warnings)
    assert any("not in the eval set" in w for w in card.warnings)
    assert extra.answer == rows["q2"].answers[A]


def test_stack_and_retrieval_summaries() -> None:
    card = _card()
    a = card.summaries[A]
    assert a.stack == "stack-a" and a.engine == "llamacpp" and a.baseline
    # Answerable questions: gold first when A is right (i % 3 != 0), else third of three.
    answerable = [i for i in range(N) if i % 6]
    hit1 = np.mean([i % 3 != 0 for i in answerable])
    assert a.retrieval["hit@1"] == pytest.approx(hit1)
    assert a.retrieval["hit@3"] == 1.0
    assert a.counts["hit@1"] == len(answerable)
    assert "hit@5" not in a.retrieval  # only three sources were retrieved
    # A never refuses: right on every answerable question, wrong on every unanswerable one.
    assert a.quality["refusal"] == pytest.approx(len(answerable) / N)
    assert a.throughput is not None and a.throughput > 0


def test_json_round_trip() -> None:
    card = _card(b_speed=0.8)
    again = ScoreCard.model_validate_json(card.model_dump_json())
    assert again.verdict == card.verdict
    assert again.rows[5].scores[A] == card.rows[5].scores[A]
    assert again.comparison("e2e.ratio").rel_pct == card.comparison("e2e.ratio").rel_pct


def test_one_sided_and_empty_runs_do_not_crash() -> None:
    questions, records = _run()
    only_a = build_scorecard(questions, [r for r in records if r.stack == A],
                             stacks=[A, B], semantic=False)
    assert only_a.n_pairs == 0 and only_a.summaries[B].responses == 0
    assert only_a.comparison("f1").verdict == "not enough pairs"
    assert any(f"{B} has no responses" in w for w in only_a.warnings)
    empty = build_scorecard(questions, [], stacks=[A, B], semantic=False)
    assert empty.rows == [] and empty.summaries[A].error_rate is None


def three_stacks(c_answer: Answer | None = None, c_speed: float = 1.0,
                 b_answer: Answer | None = None) -> ScoreCard:
    """A, B (as `_run`) and C, which answers `c_answer` at `c_speed` times A's latency."""
    questions, records = _run(b_answer=b_answer)
    for r in [r for r in records if r.stack == A]:
        i = int(r.question_id[1:])
        answer = c_answer(i, r.answer) if c_answer is not None else r.answer
        records.append(record(r.question_id, "C", answer, ttft=(r.ttft_s or 0.2) * c_speed,
                              itl=0.02 * c_speed, docs=[s.doc_id for s in r.sources]))
    return build_scorecard(questions, records, stacks=[A, B, C], semantic=False)


def test_three_stacks_are_each_paired_with_the_baseline_and_holm_corrected() -> None:
    card = three_stacks(_fixed, c_speed=0.5)
    assert card.candidates == [B, C]
    assert {c.candidate for c in card.comparisons} == {B, C}
    primary = [c for c in card.comparisons if c.primary]
    # F1 and the E2E ratio of each candidate: one family of four, Holm-corrected.
    assert sorted(c.key for c in primary) == ["e2e.ratio", "e2e.ratio", "f1", "f1"]
    assert card.method.holm_family == 4
    assert all(c.p_holm is not None and c.p_value is not None and c.p_holm >= c.p_value
               for c in primary)
    assert card.comparison("f1", C).better == C
    assert card.comparison("f1", B).better is None
    assert card.comparison("e2e.ratio", C).better == C
    assert len(card.wins_f1) == 2 and card.label(C) == C  # no letters for three stacks
    assert set(card.rows[1].answers) == {A, B, C}
    assert len(card.verdict_parts) == 2
