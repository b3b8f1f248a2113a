"""Prompts: RAG-like engine prompts from an eval set, correctness, the shared JSONL format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.synthetic import question, record
from workbench.load.prompts import (
    LoadPrompt,
    rag_prompts,
    read_jsonl,
    synthetic_prompts,
    write_jsonl,
)
from workbench.records.evalset import EvalSet, Question
from workbench.records.passage import Passage
from workbench.scoring import gold_contained
from workbench.scoring.base import Sample

EVALSET = EvalSet(
    name="tiny", digest="x",
    passages=[Passage(id="p1", title="Paris", text="Paris is the capital of France.")],
    questions=[
        Question(id="q1", question="What is the capital of France?", answers=["Paris"],
                 gold_doc_ids=["p1"]),
        Question(id="q2", question="Столица?", answers=["Париж"], gold_doc_ids=["p1"],
                 lang="ru"),
        Question(id="q3", question="No passage?", answers=["x"], gold_doc_ids=["missing"]),
        Question(id="q4", question="Who leads the People team?", answerable=False),
    ],
)


def test_engine_prompt_carries_gold_passage_and_question() -> None:
    prompts = rag_prompts(EVALSET, for_engine=True)
    assert [p.id for p in prompts] == ["q1", "q2"]  # q3's passage is missing: skipped
    system, user = prompts[0].messages
    assert system["role"] == "system" and "context" in system["content"]
    assert "Paris is the capital of France." in user["content"]
    assert user["content"].endswith("Question: What is the capital of France?\nAnswer:")
    assert prompts[1].messages[1]["content"].startswith("Контекст:")
    assert prompts[0].answers == ["Paris"]


def test_rag_service_prompt_is_the_question() -> None:
    prompts = rag_prompts(EVALSET, for_engine=False, limit=1)
    assert len(prompts) == 1 and prompts[0].question == "What is the capital of France?"


def _prompt(answers: list[str], answerable: bool | None = True) -> LoadPrompt:
    return LoadPrompt(id="p", messages=[], answers=answers, answerable=answerable)


@pytest.mark.parametrize(
    ("answer", "answers", "answerable", "verdict"),
    [
        ("The answer is: PARIS.", ["Paris"], True, True),
        ("It is Lyon", ["Paris"], True, False),
        ("Ответ — в Париже!", ["Париж"], True, True),  # Russian endings stemmed
        ("The Beatles", ["the beatles"], True, True),  # articles dropped on both sides
        ("In 1812 it rained", ["1"], True, False),  # whole tokens, not a substring
        ("The context does not say; Paris, maybe?", ["Paris"], True, False),  # a refusal
        ("The documents do not say who leads it.", [], False, True),  # unanswerable: refuse
        ("Anna Berg leads it.", [], False, False),
    ],
)
def test_load_bench_correct_is_the_scorecards_gold_contained(
    answer: str, answers: list[str], answerable: bool, verdict: bool
) -> None:
    assert _prompt(answers, answerable).grade(answer) is verdict
    # The same verdict as the scorecard's "gold contained" metric on the same answer.
    q = question("q", answers, answerable=answerable)
    [score] = gold_contained()([Sample(q, record("q", "A", answer))])
    assert score == float(verdict)


def test_what_is_not_graded() -> None:
    assert _prompt([], answerable=None).grade("anything") is None  # filler text
    assert _prompt([], answerable=True).grade("anything") is None  # no gold to check
    assert _prompt(["Paris"]).grade("Paris", ok=False) is False  # a failed request is wrong


def test_eval_prompts_carry_answerability() -> None:
    prompts = {p.id: p for p in rag_prompts(EVALSET, for_engine=False)}
    assert prompts["q1"].answerable is True and prompts["q1"].answers == ["Paris"]
    assert prompts["q4"].answerable is False and prompts["q4"].answers == []
    assert prompts["q4"].grade("The documents do not mention it.") is True
    assert all(p.answerable is None for p in synthetic_prompts(2, 3, output_len=1))


def test_synthetic_prompts_distinct_and_seeded() -> None:
    a = synthetic_prompts(3, 10, output_len=5, seed=1)
    assert len({p.question for p in a}) == 3
    assert all(len(p.question.split()) == 10 and p.output_len == 5 for p in a)
    assert [p.question for p in synthetic_prompts(3, 10, output_len=5, seed=1)] == [
        p.question for p in a]


def test_jsonl_roundtrip_in_vllm_custom_format(tmp_path: Path) -> None:
    prompts = synthetic_prompts(2, 4, output_len=7)
    path = write_jsonl(prompts, tmp_path / "p.jsonl")
    assert '"output_tokens": 7' in path.read_text()
    back = read_jsonl(path)
    assert [p.question for p in back] == [p.question for p in prompts]
    assert back[0].output_len == 7 and read_jsonl(path, output_len=3)[0].output_len == 3


def test_jsonl_answers_and_answerable_are_graded(tmp_path: Path) -> None:
    path = tmp_path / "graded.jsonl"
    path.write_text('{"prompt": "Capital?", "answers": ["Paris"]}\n'
                    '{"prompt": "Who leads it?", "answerable": false}\n'
                    '{"prompt": "filler"}\n', encoding="utf-8")
    graded, refusal, filler = read_jsonl(path)
    assert graded.grade("Paris.") is True and graded.grade("Lyon.") is False
    assert refusal.grade("I don't know.") is True and refusal.grade("Anna.") is False
    assert filler.grade("Paris") is None
