"""The SQuAD-format adapter (SQuAD 1.1/2.0 and XQuAD JSON, hub rows), and the public sets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workbench.evalsets import EvalSetError, load_evalset, read_squad_json
from workbench.evalsets.squad import guess_lang, squad_from_rows
from workbench.records.evalset import EvalSet

SharedEvalset = Callable[[str], Path]

SQUAD: dict[str, Any] = {
    "version": "v2.0",
    "data": [
        {
            "title": "Quillmoor_Labs",
            "paragraphs": [
                {
                    "context": "Quillmoor Labs was founded in 2011 in Halvard Bay.",
                    "qas": [
                        {
                            "id": "a1",
                            "question": "When was Quillmoor founded?",
                            "answers": [
                                {"text": "2011", "answer_start": 30},
                                {"text": "2011", "answer_start": 30},
                                {"text": "in 2011", "answer_start": 27},
                            ],
                            "is_impossible": False,
                        },
                        {
                            "id": "a2",
                            "question": "When did Quillmoor close?",
                            "answers": [],
                            "plausible_answers": [{"text": "2011", "answer_start": 30}],
                            "is_impossible": True,
                        },
                    ],
                },
                {
                    "context": "The Tern 3 reports every 30 seconds.",
                    "qas": [
                        {
                            "id": "a3",
                            "question": "How often does the Tern 3 report?",
                            "answers": [{"text": "every 30 seconds", "answer_start": 19}],
                        }
                    ],
                },
            ],
        },
        {
            "title": "Petrel",
            "paragraphs": [
                {
                    "context": "The Petrel buoy was released in 2021.",
                    "qas": [
                        {
                            "id": "b1",
                            "question": "When was the Petrel released?",
                            "answers": [{"text": "2021", "answer_start": 32}],
                        }
                    ],
                },
            ],
        },
    ],
}


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_squad_json_passages_questions_and_unanswerable(tmp_path: Path) -> None:
    es = load_evalset(_write(tmp_path / "mini.json", SQUAD))
    assert [p.id for p in es.passages] == ["Quillmoor_Labs#0", "Quillmoor_Labs#1", "Petrel#0"]
    assert es.passages[0].title == "Quillmoor Labs"
    q = {x.id: x for x in es.questions}
    assert q["a1"].answers == ["2011", "in 2011"]  # duplicates dropped, order kept
    assert q["a1"].gold_doc_ids == ["Quillmoor_Labs#0"]
    assert (q["a2"].answerable, q["a2"].answers, q["a2"].gold_doc_ids) == (False, [], [])
    assert q["a2"].source_doc_id == "Quillmoor_Labs#0"
    assert q["a2"].meta == {"plausible_answers": ["2011"]}
    assert q["a3"].answerable and q["a3"].gold_doc_ids == ["Quillmoor_Labs#1"]  # XQuAD: no flag
    assert es.name == "mini" and es.unanswerable_count == 1


def test_squad_ids_and_digest_are_stable(tmp_path: Path) -> None:
    a = load_evalset(_write(tmp_path / "a.json", SQUAD))
    b = load_evalset(_write(tmp_path / "b.json", SQUAD))
    assert a.digest == b.digest


def test_squad_language_from_the_file_name(tmp_path: Path) -> None:
    es = load_evalset(_write(tmp_path / "xquad.ru.json", SQUAD))
    assert {q.lang for q in es.questions} == {"ru"}
    assert guess_lang("dev-v2.0.json") == "en"


def test_squad_problems_name_the_json_path(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(SQUAD))
    paragraph = doc["data"][0]["paragraphs"][0]
    del paragraph["qas"][0]["question"]
    paragraph["qas"][1]["id"] = "a3"  # the same id as a later question
    doc["data"][1]["paragraphs"][0]["context"] = 7
    doc["data"][0]["paragraphs"][1]["qas"][0]["is_impossible"] = False
    doc["data"][0]["paragraphs"][1]["qas"][0]["answers"] = []
    with pytest.raises(EvalSetError) as info:
        load_evalset(_write(tmp_path / "bad.json", doc))
    text = str(info.value)
    assert "bad.json: data[0].paragraphs[0].qas[0].question: missing" in text
    assert "bad.json: data[1].paragraphs[0].context: expected a non-empty string" in text
    assert (
        "bad.json: data[0].paragraphs[1].qas[0].answers: answerable question has no answers" in text
    )


def test_squad_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n{"title": "x",\n"paragraphs": [}\n]}', encoding="utf-8")
    with pytest.raises(EvalSetError, match=r"broken.json:3: malformed JSON"):
        read_squad_json(path)
    with pytest.raises(EvalSetError, match="not SQuAD format"):
        read_squad_json(_write(tmp_path / "list.json", [1, 2]))


def test_squad_hub_rows_layout() -> None:
    rows = [
        {
            "id": "r1",
            "title": "T",
            "context": "Alpha is 1.",
            "question": "Alpha?",
            "answers": {"text": ["1"], "answer_start": [9]},
        },
        {
            "id": "r2",
            "title": "T",
            "context": "Beta is 2.",
            "question": "Beta?",
            "answers": {"text": [], "answer_start": []},
        },
        {
            "id": "r3",
            "title": "T",
            "context": "Alpha is 1.",
            "question": "Alpha again?",
            "answers": {"text": ["1"], "answer_start": [9]},
        },
    ]
    passages, questions = squad_from_rows(rows, "hf:x/y", "en")
    assert [p.id for p in passages] == ["T#0", "T#1"]
    assert [q.gold_doc_ids for q in questions] == [["T#0"], [], ["T#0"]]
    assert questions[1].answerable is False and questions[1].source_doc_id == "T#1"


# The public sets beside the project (../shared/evaldata), when present.


@pytest.mark.parametrize(
    ("name", "passages", "questions", "unanswerable"),
    [("xquad_en", 240, 1190, 0), ("xquad_ru", 240, 1190, 0), ("squad2_dev_half", 646, 500, 250)],
)
def test_public_sets_load_with_the_readme_counts(
    shared_evalset: SharedEvalset, name: str, passages: int, questions: int, unanswerable: int
) -> None:
    es = load_evalset(shared_evalset(name))
    assert (len(es.passages), len(es.questions), es.unanswerable_count) == (
        passages,
        questions,
        unanswerable,
    )
    ids = es.passage_ids()
    assert all(set(q.gold_doc_ids) <= ids for q in es.questions)


def _to_squad(es: EvalSet) -> dict[str, Any]:
    """The converted set back in SQuAD JSON (ids `<title>#<n>` give back the articles)."""
    articles: dict[str, list[dict[str, Any]]] = {}
    by_doc: dict[str, list[dict[str, Any]]] = {p.id: [] for p in es.passages}
    for q in es.questions:
        doc = q.gold_doc_ids[0] if q.gold_doc_ids else q.source_doc_id
        assert doc is not None
        qa: dict[str, Any] = {
            "id": q.id,
            "question": q.question,
            "answers": [{"text": a} for a in q.answers],
            "is_impossible": not q.answerable,
        }
        if q.meta and "plausible_answers" in q.meta:
            qa["plausible_answers"] = [{"text": a} for a in q.meta["plausible_answers"]]  # type: ignore[attr-defined]
        by_doc[doc].append(qa)
    for p in es.passages:
        title, _, _ = p.id.rpartition("#")
        articles.setdefault(title, []).append({"context": p.text, "qas": by_doc[p.id]})
    return {"data": [{"title": t, "paragraphs": ps} for t, ps in articles.items()]}


@pytest.mark.parametrize("name", ["xquad_en", "squad2_dev_half"])
def test_squad_adapter_reads_the_public_sets_like_their_conversion(
    shared_evalset: SharedEvalset, tmp_path: Path, name: str
) -> None:
    converted = load_evalset(shared_evalset(name))
    es = load_evalset(_write(tmp_path / f"{name}.json", _to_squad(converted)))
    assert len(es.questions) == len(converted.questions)
    assert es.passage_ids() >= {d for q in converted.questions for d in q.gold_doc_ids}
    mine = {q.id: q for q in es.questions}
    for q in converted.questions:
        got = mine[q.id]
        assert (got.answers, got.gold_doc_ids, got.answerable) == (
            q.answers,
            q.gold_doc_ids,
            q.answerable,
        )
        if not q.answerable:
            assert got.source_doc_id == q.source_doc_id
