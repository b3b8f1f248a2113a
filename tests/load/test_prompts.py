"""Prompts: RAG-like engine prompts from an eval set, correctness, the shared JSONL format."""

from __future__ import annotations

from pathlib import Path

from workbench.evalsets.model import EvalSet, Passage, Question
from workbench.load.prompts import (
    is_correct,
    rag_prompts,
    read_jsonl,
    synthetic_prompts,
    write_jsonl,
)

EVALSET = EvalSet(
    name="tiny", digest="x",
    passages=[Passage(id="p1", title="Paris", text="Paris is the capital of France.")],
    questions=[
        Question(id="q1", question="What is the capital of France?", answers=["Paris"],
                 gold_doc_ids=["p1"]),
        Question(id="q2", question="Столица?", answers=["Париж"], gold_doc_ids=["p1"],
                 lang="ru"),
        Question(id="q3", question="No passage?", answers=["x"], gold_doc_ids=["missing"]),
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


def test_correctness_by_normalised_containment() -> None:
    assert is_correct("The answer is: PARIS.", ["Paris"]) is True
    assert is_correct("It is Lyon", ["Paris"]) is False
    assert is_correct("Ответ — Париж!", ["париж"]) is True
    assert is_correct("anything", []) is None
    assert is_correct("The Beatles", ["the beatles"]) is True  # articles dropped on both sides


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
