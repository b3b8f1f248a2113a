"""The SQLite store: migrated schema, responses stored at once, latest attempt wins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.evalsets.model import Question
from workbench.runner.records import RequestTiming, ResponseRecord, RetrievedSource
from workbench.store import Store, StoreError
from workbench.store.migrations import MIGRATIONS

QUESTIONS = [
    Question(id="q1", question="Who?", answers=["Ann"], gold_doc_ids=["p1"]),
    Question(id="q2", question="Где?", answers=[], gold_doc_ids=[], answerable=False, lang="ru"),
]
RECIPE = {"A": {"name": "alpha"}, "B": {"name": "beta"}}


def record(run_id: str, qid: str, side: str, status: str = "ok", attempt: int = 1,
           answer: str = "Ann") -> ResponseRecord:
    return ResponseRecord(
        run_id=run_id, question_id=qid, side=side, stack=RECIPE[side]["name"], attempt=attempt,
        status=status, answer=answer,
        sources=[RetrievedSource(doc_id="p1", rank=1, score=0.5)],
        timing=RequestTiming(request_start=1.0, first_token=1.2, last_token=1.5,
                             request_end=1.6, token_times=[1.2, 1.3, 1.5],
                             started_at_utc="2026-11-21T00:00:00Z"),
        completion_tokens=3,
    )


def new_run(store: Store) -> str:
    return store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                            stacks=RECIPE, questions=QUESTIONS, manifest={"x": 1}, limit=None)


def test_schema_is_migrated_and_wal(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    names = [name for name, _ in MIGRATIONS]
    assert names[0] == "001_initial" and names == sorted(names)  # append-only, numbered
    assert store.applied_migrations() == names
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "run_stacks", "questions", "responses", "retrieved", "scores", "votes",
            "migrations"} <= tables
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    # Reopening does not re-apply anything.
    again = Store(tmp_path / "wb.db")
    assert again.applied_migrations() == names
    assert again.conn.execute("SELECT COUNT(*) FROM migrations").fetchone()[0] == len(names)


def test_response_round_trip_keeps_raw_timestamps(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    store.add_response(record(run_id, "q1", "A"))
    [back] = store.responses(run_id)
    assert back.timing.token_times == [1.2, 1.3, 1.5]
    assert back.ttft_s == pytest.approx(0.2)
    assert back.tpot_s == pytest.approx(0.15)
    assert [q.id for q in store.questions(run_id)] == ["q1", "q2"]
    assert store.questions(run_id)[1].answerable is False
    row = store.conn.execute("SELECT doc_id, rank FROM retrieved").fetchone()
    assert tuple(row) == ("p1", 1)


def test_duplicate_response_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    store.add_response(record(run_id, "q1", "A"))
    with pytest.raises(StoreError, match=r"wb\.db"):
        store.add_response(record(run_id, "q1", "A", answer="other"))
    assert [r.answer for r in store.responses(run_id)] == ["Ann"]


def test_latest_attempt_wins(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    store.add_response(record(run_id, "q1", "B", status="error", answer=""))
    store.add_response(record(run_id, "q1", "B", attempt=2, answer="Ann"))
    assert store.answered(run_id) == {("q1", "B"): (2, "ok")}
    assert [r.attempt for r in store.responses(run_id)] == [2]
    assert store.count_responses(run_id) == 2
    runs = store.list_runs()
    assert runs[0]["responses"] == 1 and runs[0]["errors"] == 0


def test_resolve_run_id(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    assert store.resolve_run_id("latest") == run_id
    assert store.resolve_run_id(run_id[:20].lower()) == run_id
    with pytest.raises(KeyError, match="no run"):
        store.resolve_run_id("ZZZ")


def test_readonly_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "wb.db"
    store = Store(path)
    new_run(store)
    store.close()
    ro = Store(path, readonly=True)
    with pytest.raises(StoreError, match="write failed"):
        new_run(ro)
    assert len(ro.list_runs()) == 1


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"bad\.db"):
        Store(bad)
    assert bad.read_bytes().startswith(b"this is not sqlite")


def test_votes(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    store.add_vote(question="q", stack_a="a", stack_b="b", vote="tie", blind=True, detail={})
    with pytest.raises(StoreError):
        store.add_vote(question="q", stack_a="a", stack_b="b", vote="maybe", blind=True,
                       detail={})
    assert [v["vote"] for v in store.votes()] == ["tie"]
    with sqlite3.connect(tmp_path / "wb.db") as c:
        assert c.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 1
