"""Refusal detection in English and Russian, and the answer scorers' refusal conventions."""

from __future__ import annotations

import pytest

from tests.report.synthetic import question, record
from workbench.scoring import exact_match, gold_contained, refusal, token_f1
from workbench.scoring.base import Sample
from workbench.scoring.refusal import is_refusal


@pytest.mark.parametrize(
    "answer",
    [
        "I don't know.",
        "I don’t know the answer.",
        "The answer is not in the context.",
        "This is not mentioned in the provided documents.",
        "The context does not contain this information.",
        "I cannot answer this question from the given text.",
        "There is not enough information to answer.",
        "Не знаю.",
        "В контексте нет информации об этом.",
        "В предоставленных документах не указано, когда это произошло.",
        "Нет информации о дате основания.",
        "Не могу ответить на этот вопрос.",
        "Недостаточно данных для ответа.",
        "",
        "   ",
    ],
)
def test_refusals_detected(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "Paris is the capital of France.",
        "It is known as the City of Light.",
        "Москва — столица России.",
        "Ответ: в 1812 году.",
        "The documents describe the treaty in detail.",
    ],
)
def test_answers_not_taken_for_refusals(answer: str) -> None:
    assert not is_refusal(answer)


def _score(scorer: object, q: object, answer: str, status: str = "ok") -> float | None:
    sample = Sample(q, record(q.id, "A", answer, status=status))  # type: ignore[attr-defined,arg-type]
    return scorer([sample])[0]  # type: ignore[operator,no-any-return]


def test_refusal_is_right_only_when_unanswerable() -> None:
    answerable, unanswerable = question("q1", ["know"]), question("q2", answerable=False)
    assert _score(refusal(), unanswerable, "Не знаю.") == 1.0
    assert _score(refusal(), unanswerable, "It is 42.") == 0.0
    assert _score(refusal(), answerable, "I don't know") == 0.0
    assert _score(refusal(), answerable, "I know: it is 42") == 1.0
    assert _score(refusal(), unanswerable, "Не знаю.", status="error") == 0.0


def test_answer_scorers_follow_the_refusal_conventions() -> None:
    answerable, unanswerable = question("q1", ["know"]), question("q2", answerable=False)
    for scorer in (exact_match(), token_f1(), gold_contained()):
        # A refusal on an answerable question is wrong even though it shares the word "know".
        assert _score(scorer, answerable, "I don't know") == 0.0
        assert _score(scorer, unanswerable, "I don't know") == 1.0
        assert _score(scorer, unanswerable, "Paris") == 0.0
        assert _score(scorer, answerable, "know", status="timeout") == 0.0
        assert _score(scorer, answerable, "know") == 1.0
