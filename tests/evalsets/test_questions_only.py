"""Questions-only sets (no gold answers, no gold passage ids) load as ordinary questions;
malformed lines in them are still reported with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evalsets.helpers import PASSAGES, write_csv, write_jsonl, write_lines
from workbench.evalsets import EvalSetError, load_evalset


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ours"
    folder.mkdir()
    write_jsonl(folder / "corpus.jsonl", PASSAGES)
    return folder


def test_bare_questions_load_with_empty_answers_and_gold_ids(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_jsonl(folder / "questions.jsonl", [
        {"id": "u1", "question": "How much leave do we get?"},
        {"id": "u2", "question": "What is the VPN called?", "lang": "en"},
        {"id": "u3", "question": "Who leads sales?", "answerable": False},
    ])
    es = load_evalset(folder)
    first = es.questions[0]
    assert (first.answers, first.gold_doc_ids, first.answerable) == ([], [], True)
    assert not first.has_gold_answers and not first.has_gold_ids
    assert (es.without_gold_answers, es.without_gold_ids, es.unanswerable_count) == (2, 2, 1)


def test_questions_only_csv_loads_too(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_csv(folder / "questions.csv", [{"id": "u1", "question": "How much leave?"}])
    assert load_evalset(folder).questions[0].answers == []


@pytest.mark.parametrize(("line", "expected"), [
    ('{"id": "u2", "question": ', "questions.jsonl:2: malformed JSON"),
    (json.dumps({"id": "u2"}), "questions.jsonl:2: question: missing"),
    (json.dumps({"id": "u2", "question": "Q?", "answers": "27"}),
     "questions.jsonl:2: answers: expected a list of strings, got string"),
    (json.dumps({"id": "u2", "question": "Q?", "gold_doc_ids": ["nope"]}),
     "questions.jsonl:2: gold_doc_ids: 'nope' is not a corpus passage id"),
    (json.dumps({"id": "u2", "question": "Q?", "answerable": False, "answers": ["x"]}),
     "questions.jsonl:2: answers: must be [] when answerable is false"),
])
def test_malformed_lines_still_name_file_and_line(tmp_path: Path, line: str,
                                                   expected: str) -> None:
    folder = _folder(tmp_path)
    write_lines(folder / "questions.jsonl", [json.dumps({"id": "u1", "question": "Q?"}), line])
    with pytest.raises(EvalSetError) as info:
        load_evalset(folder)
    assert expected in str(info.value)
