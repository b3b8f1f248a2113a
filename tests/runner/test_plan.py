"""Schedules: who is asked when; question selection under --limit; derived metrics."""

from __future__ import annotations

import pytest

from workbench.records.evalset import EvalSet, Question
from workbench.records.responses import RequestTiming, ResponseRecord
from workbench.runner.run import plan, select_questions

QS = [Question(id=f"q{i}", question=f"question {i}", answers=["x"]) for i in range(4)]
AB = ["A", "B"]
ALL = {(q.id, s) for q in QS for s in AB}


def flat(phases: list[list[tuple[Question, str]]]) -> list[list[str]]:
    return [[f"{q.id}{s}" for q, s in phase] for phase in phases]


def test_interleaved_alternates_first_side_and_measures_one_stack_at_a_time() -> None:
    assert flat(plan(QS, ALL, "interleaved", 1, AB)) == [
        ["q0A"], ["q0B"], ["q1B"], ["q1A"], ["q2A"], ["q2B"], ["q3B"], ["q3A"],
    ]


def test_interleaved_with_concurrency_batches_questions_per_side() -> None:
    assert flat(plan(QS, ALL, "interleaved", 2, AB)) == [
        ["q0A", "q1A"], ["q0B", "q1B"], ["q2B", "q3B"], ["q2A", "q3A"],
    ]


def test_sequential_and_parallel() -> None:
    assert flat(plan(QS, ALL, "sequential", 1, AB)) == [
        ["q0A", "q1A", "q2A", "q3A"], ["q0B", "q1B", "q2B", "q3B"],
    ]
    [phase] = plan(QS, ALL, "parallel", 4, AB)
    assert len(phase) == 8


def test_interleaved_rotates_the_order_of_every_stack_per_question() -> None:
    stacks = ["s1", "s2", "s3"]
    todo = {(q.id, s) for q in QS for s in stacks}
    phases = flat(plan(QS, todo, "interleaved", 1, stacks))
    assert phases == [
        ["q0s1"], ["q0s2"], ["q0s3"], ["q1s2"], ["q1s3"], ["q1s1"],
        ["q2s3"], ["q2s1"], ["q2s2"], ["q3s1"], ["q3s2"], ["q3s3"],
    ]
    # Each stack goes first, second and third equally often over a full rotation.
    firsts = [phases[i][0][2:] for i in range(0, 9, 3)]
    assert sorted(firsts) == stacks


def test_plan_only_holds_pending_pairs() -> None:
    todo = {("q1", "B"), ("q3", "A")}
    assert flat(plan(QS, todo, "interleaved", 1, AB)) == [["q1B"], ["q3A"]]
    assert plan(QS, set(), "parallel", 1, AB) == []


def test_limit_keeps_unanswerable_questions() -> None:
    qs = [Question(id=f"a{i}", question="?", answers=["x"]) for i in range(30)] + [
        Question(id=f"u{i}", question="?", answerable=False) for i in range(10)
    ]
    es = EvalSet(name="t", passages=[], questions=qs, digest="d")
    chosen = select_questions(es, 8)
    assert len(chosen) == 8
    assert sum(not q.answerable for q in chosen) == 2
    assert select_questions(es, None) == qs


def test_metrics_follow_vllm_definitions() -> None:
    rec = ResponseRecord(
        run_id="r", question_id="q", stack="s", status="ok",
        timing=RequestTiming(request_start=10.0, first_token=10.5, last_token=11.5,
                             request_end=11.6, token_times=[10.5, 11.0, 11.5],
                             started_at_utc="x"),
        completion_tokens=5,
    )
    assert rec.ttft_s == pytest.approx(0.5)
    assert rec.e2e_s == pytest.approx(1.5)
    assert rec.tpot_s == pytest.approx(0.25)
    assert rec.itl_s == pytest.approx([0.5, 0.5])
    assert rec.output_rate == pytest.approx(5 / 1.0)


def test_a_run_takes_two_to_eight_distinct_stacks_and_a_baseline_among_them() -> None:
    from workbench.runner.run import RunError
    from workbench.runner.session import check_stack_names

    assert check_stack_names(["a", "b", "c"]) == "a"
    assert check_stack_names(["a", "b", "c"], "c") == "c"
    with pytest.raises(RunError, match="2 to 8 stacks, got 1"):
        check_stack_names(["a"])
    with pytest.raises(RunError, match="2 to 8 stacks, got 9"):
        check_stack_names([f"s{i}" for i in range(9)])
    with pytest.raises(RunError, match="b named more than once"):
        check_stack_names(["a", "b", "b"])
    with pytest.raises(RunError, match="--baseline: 'z' is not one of the run's stacks"):
        check_stack_names(["a", "b"], "z")
