"""Reviewing a generated set: keep, edit, drop and restore, written back atomically, with
nothing lost; the set stays loadable after every change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evalsets.build_docs import reviewable_set
from workbench.evalsets import load_evalset
from workbench.evalsets.builder.output import read_jsonl_rows
from workbench.evalsets.builder.review import ReviewError, ReviewSet


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return reviewable_set(tmp_path)


def _ids(path: Path) -> list[str]:
    return [r["id"] for r in read_jsonl_rows(path)]


def test_keep_edit_drop_restore_are_saved_at_once(folder: Path) -> None:
    review = ReviewSet.open(folder)
    review.keep("it-guide.md#0:q1")
    review.edit("it-guide.md#0:q2", "Which MTU setting stops the VPN dropping?", "1320")
    review.drop("office.html#0:q1")
    again = ReviewSet.open(folder)  # what is on disk
    assert again.status("it-guide.md#0:q1") == "kept"
    assert again.status("it-guide.md#0:q2") == "edited"
    assert again.status("office.html#0:q1") == "dropped"
    assert again.status("office.html#1:u1") == "new"
    assert again.counts() == {"new": 1, "kept": 1, "edited": 1, "dropped": 1}
    edited = again.find("it-guide.md#0:q2")
    assert edited["question"] == "Which MTU setting stops the VPN dropping?"
    assert edited["meta"]["generated_question"] == "What MTU fixes the VPN?"
    assert _ids(folder / "dropped.jsonl") == ["office.html#0:q1"]
    es = load_evalset(folder)
    assert [q.id for q in es.questions] == ["it-guide.md#0:q1", "it-guide.md#0:q2",
                                            "office.html#1:u1"]
    again.restore("office.html#0:q1")
    assert len(load_evalset(folder).questions) == 4 and _ids(folder / "dropped.jsonl") == []


def test_edited_answer_must_be_a_span_of_its_passage(folder: Path) -> None:
    review = ReviewSet.open(folder)
    with pytest.raises(ReviewError, match=r"does not appear in passage office\.html#0"):
        review.edit("office.html#0:q1", "Where is the headquarters?", "12 Mill Road")
    review.edit("office.html#0:q1", "Where is the headquarters?", "quarry lane")
    q = ReviewSet.open(folder).find("office.html#0:q1")
    assert q["answers"] == ["Quarry Lane"]  # the passage's own text
    assert q["meta"]["generated_answer"] == "9 Quarry Lane"
    with pytest.raises(ReviewError, match="empty"):
        review.edit("office.html#0:q1", "   ")


def test_unanswerable_question_shows_its_held_out_passage(folder: Path) -> None:
    review = ReviewSet.open(folder)
    q = review.find("office.html#1:u1")
    assert review.passage_of(q)["text"].startswith("The shuttle bus leaves")
    review.edit("office.html#1:u1", "When does the Vellmoor shuttle leave?", "8:15")
    assert ReviewSet.open(folder).find("office.html#1:u1")["answers"] == []  # stays unanswerable


def test_unknown_and_dropped_ids_are_refused(folder: Path) -> None:
    review = ReviewSet.open(folder)
    with pytest.raises(ReviewError, match="no such question"):
        review.keep("nope")
    review.drop("it-guide.md#0:q1")
    with pytest.raises(ReviewError, match="dropped; restore it first"):
        review.keep("it-guide.md#0:q1")
    with pytest.raises(ReviewError, match="not a dropped question"):
        review.restore("it-guide.md#0:q2")


def test_a_question_in_both_files_after_a_crash_stays_in_the_set(folder: Path) -> None:
    row = read_jsonl_rows(folder / "questions.jsonl")[0]
    (folder / "dropped.jsonl").write_text(json.dumps(row) + "\n", "utf-8")
    review = ReviewSet.open(folder)
    assert review.status(row["id"]) == "new" and review.dropped == []


def test_writes_leave_no_temporary_files(folder: Path) -> None:
    review = ReviewSet.open(folder)
    for qid in ("it-guide.md#0:q1", "it-guide.md#0:q2"):
        review.drop(qid)
        review.restore(qid)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["README.md", "build.json", "corpus.jsonl", "dropped.jsonl", "heldout.jsonl",
         "questions.jsonl", "rejected.jsonl"])


def test_not_a_generated_set_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="not a generated eval set"):
        ReviewSet.open(tmp_path)
