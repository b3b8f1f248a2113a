"""The SQLite store: migrated schema, responses stored at once, latest attempt wins."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from workbench.records.evalset import Question
from workbench.records.responses import RequestTiming, ResponseRecord, RetrievedSource
from workbench.store import Store, StoreError
from workbench.store.migrations import MIGRATIONS

QUESTIONS = [
    Question(id="q1", question="Who?", answers=["Ann"], gold_doc_ids=["p1"]),
    Question(id="q2", question="Где?", answers=[], gold_doc_ids=[], answerable=False, lang="ru"),
]
RECIPE = {"A": {"name": "alpha"}, "B": {"name": "beta"}}


def record(run_id: str, qid: str, side: str, status: str = "ok", attempt: int = 1,
           answer: str = "Ann") -> ResponseRecord:
    """A response of stack `side` (a letter of RECIPE, or any stack name)."""
    return ResponseRecord(
        run_id=run_id, question_id=qid, stack=RECIPE[side]["name"] if side in RECIPE else side,
        attempt=attempt,
        status=status, answer=answer,
        sources=[RetrievedSource(doc_id="p1", rank=1, score=0.5)],
        timing=RequestTiming(request_start=1.0, first_token=1.2, last_token=1.5,
                             request_end=1.6, token_times=[1.2, 1.3, 1.5],
                             started_at_utc="2026-11-21T00:00:00Z"),
        completion_tokens=3,
    )


def new_run(store: Store) -> str:
    return store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                            stacks=list(RECIPE.values()), questions=QUESTIONS,
                            manifest={"x": 1}, limit=None)


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
    assert store.answered(run_id) == {("q1", "beta"): (2, "ok")}
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


def test_a_run_of_three_named_stacks_with_a_chosen_baseline(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    stacks = [{"name": "s1"}, {"name": "s2"}, {"name": "s3"}]
    run_id = store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                              stacks=stacks, questions=QUESTIONS, manifest={}, limit=None,
                              baseline="s2")
    for name in ("s3", "s1", "s2"):
        store.add_response(record(run_id, "q1", name))
    assert list(store.recipes(run_id)) == ["s1", "s2", "s3"]
    assert store.baseline(run_id) == "s2"
    assert sorted(k[1] for k in store.answered(run_id)) == ["s1", "s2", "s3"]
    [run] = store.list_runs()
    assert run["stacks"] == ["s1", "s2", "s3"] and run["baseline"] == "s2"
    assert run["responses"] == 3
    with pytest.raises(ValueError, match="baseline 'nope'"):
        store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                         stacks=stacks, questions=QUESTIONS, manifest={}, limit=None,
                         baseline="nope")
    with pytest.raises(ValueError, match="distinct"):
        store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                         stacks=[{"name": "s1"}, {"name": "s1"}], questions=QUESTIONS,
                         manifest={}, limit=None)


def _old_two_stack_database(path: Path) -> None:
    """A results file as the workbench wrote it before N-stack runs (migrations 001-003,
    sides A and B), built with the shipped migrations' own SQL."""
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_utc TEXT)")
    for name, sql in MIGRATIONS[:3]:
        c.executescript(sql)
        c.execute("INSERT INTO migrations VALUES (?, 'then')", (name,))
    c.execute("INSERT INTO runs VALUES ('R1', 'then', 'then', 'completed', 't', 'd', "
              "'interleaved', 'alpha', 'beta', NULL, '{}')")
    for side, name in (("A", "alpha"), ("B", "beta")):
        c.execute("INSERT INTO run_stacks VALUES ('R1', ?, ?, ?)",
                  (side, name, json.dumps({"name": name})))
    c.execute("INSERT INTO questions VALUES ('R1', 0, 'q1', 'Who?', ?, ?, 1, 'en')",
              (json.dumps(["Ann"]), json.dumps(["p1"])))
    for side, name, attempt in (("A", "alpha", 1), ("B", "beta", 1), ("B", "beta", 2)):
        rec = record("R1", "q1", side, attempt=attempt).model_dump()
        rec["side"] = side  # the old record shape carried its side letter
        c.execute("INSERT INTO responses VALUES (?,?,?,?,?,'ok',NULL,200,'Ann',200.0,500.0,3,"
                  "10,'m','e','then',?)", ("R1", "q1", side, attempt, name, json.dumps(rec)))
        c.execute("INSERT INTO retrieved VALUES ('R1', 'q1', ?, ?, 1, 'p1', '', 0.5)",
                  (side, attempt))
        c.execute("INSERT OR REPLACE INTO scores VALUES ('R1', 'q1', ?, 'f1', 1.0)", (side,))
    c.commit()
    c.close()


def test_runs_stored_before_named_stacks_still_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_two_stack_database(path)
    store = Store(path)  # applies 004 and later
    assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert list(store.recipes("R1")) == ["alpha", "beta"]
    assert store.baseline("R1") == "alpha"
    assert store.answered("R1") == {("q1", "alpha"): (1, "ok"), ("q1", "beta"): (2, "ok")}
    assert [(r.stack, r.attempt) for r in store.responses("R1")] == [("alpha", 1), ("beta", 2)]
    assert store.count_responses("R1") == 3
    retrieved = {tuple(r) for r in store.conn.execute("SELECT stack, attempt FROM retrieved")}
    assert retrieved == {("alpha", 1), ("beta", 1), ("beta", 2)}
    scores = {tuple(r) for r in store.conn.execute("SELECT stack, value FROM scores")}
    assert scores == {("alpha", 1.0), ("beta", 1.0)}
    [run] = store.list_runs()
    assert run["stacks"] == ["alpha", "beta"] and run["responses"] == 2
    # New responses go in beside the migrated ones.
    store.add_response(record("R1", "q1", "alpha", attempt=2))
    assert store.answered("R1")[("q1", "alpha")] == (2, "ok")
