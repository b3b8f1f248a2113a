"""The optional LLM judge: reply parsing, the prompt it sends, and a real llama.cpp judge."""

from __future__ import annotations

import pytest

from tests.report.synthetic import question, record
from workbench.runner.records import RetrievedSource
from workbench.scoring import JUDGE_PROMPT, Judge, judge_correctness, judge_faithfulness
from workbench.scoring.base import Sample
from workbench.scoring.judge import Grade, parse_grade


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ('{"correct": true, "faithful": false}', Grade(True, False)),
        ('```json\n{"correct": false, "faithful": true}\n```', Grade(False, True)),
        ("Correct: yes. Faithful: no.", Grade(True, False)),
        ("I cannot grade this.", Grade(None, None)),
        ('{"correct": "maybe"}', Grade(None, None)),
    ],
)
def test_parse_grade(reply: str, grade: Grade) -> None:
    assert parse_grade(reply) == grade


def test_manifest_and_prompt() -> None:
    judge = Judge(base_url="http://127.0.0.1:1/v1", model="judge-m", api_key="secret")
    assert judge.manifest() == {"model": "judge-m", "base_url": "http://127.0.0.1:1/v1",
                                "prompt": JUDGE_PROMPT}
    assert "secret" not in str(judge.manifest())
    r = record("q", "A", "Paris")
    r.sources = [RetrievedSource(doc_id="d", rank=1, text="Paris is the capital of France.")]
    text = judge.render(Sample(question("q", ["Paris"]), r))
    assert "Paris is the capital of France." in text and "Gold answer(s): Paris" in text
    unanswerable = judge.render(Sample(question("u", answerable=False), r))
    assert "the documents do not contain the answer" in unanswerable


def test_failed_requests_are_wrong_without_a_call() -> None:
    # The endpoint is unreachable: a call would raise, so none must be made.
    judge = Judge(base_url="http://127.0.0.1:1/v1", model="m")
    failed = Sample(question("q"), record("q", "A", "x", status="error"))
    assert judge_correctness(judge)([failed]) == [0.0]
    assert judge_faithfulness(judge)([failed]) == [0.0]


@pytest.mark.slow
@pytest.mark.llamacpp
def test_real_judge_through_llama_cpp(llama_server: str) -> None:
    judge = Judge(base_url=llama_server, model="smollm2-135m-instruct")
    samples = [Sample(question(f"q{i}", ["Paris"]), record(f"q{i}", "A", a))
               for i, a in enumerate(["Paris", "Berlin"])]
    correct = judge_correctness(judge)(samples)
    faithful = judge_faithfulness(judge)(samples)
    assert len(correct) == len(faithful) == 2
    # A 135M model may not follow the format; what it did say must be read as 0/1.
    assert all(v in (0.0, 1.0, None) for v in correct + faithful)
    assert len(judge._cache) == 2  # one call per answer, shared by both scorers
