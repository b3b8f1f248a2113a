"""The database failing mid-run (locked by another process, disk full): the runner stops
with a clear error naming the file, keeps every stored answer, and `--resume` (a fresh
runner on the same run) finishes it with no duplicate and no gap.

Real SQLite files; the stacks are stand-ins that answer at once (no engine needed).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from workbench.records.evalset import Question
from workbench.records.responses import RequestTiming
from workbench.runner.run import Runner, RunOptions
from workbench.runner.stack_client import Answer
from workbench.stacks.recipe import Stack
from workbench.store.db import Store, StoreError

QUESTIONS = [Question(id=f"q{i}", question=f"question {i}?", answers=["x"]) for i in range(4)]
PAIRS = {(q.id, s) for q in QUESTIONS for s in ("a", "b")}


class InstantClient:
    """Answers every question at once; calls `before_ask(n)` before the n-th ask."""

    def __init__(self, name: str, port: int, before_ask: Callable[[int], None]) -> None:
        self.stack = Stack.model_validate({"name": name, "engine": "llamacpp",
                                           "model": {"name": "m"},
                                           "ports": {"rag": port, "engine": port + 1}})
        self.before_ask = before_ask
        self.asked = 0

    async def prepare(self, space_id: str, passages: list[dict[str, Any]]) -> str:
        return "ready"

    async def ask(self, question: str, space_id: str) -> Answer:
        self.asked += 1
        self.before_ask(self.asked)
        now = time.perf_counter()
        timing = RequestTiming(request_start=now, first_token=now, last_token=now,
                               request_end=now,
                               started_at_utc=datetime.now(UTC).isoformat())
        return Answer(status="ok", timing=timing, answer=f"answer to {question}",
                      completion_tokens=1)

    async def aclose(self) -> None:
        return None


def new_run(store: Store) -> str:
    return store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                            stacks=[{"name": "a"}, {"name": "b"}], questions=QUESTIONS,
                            manifest={}, limit=None)


def rows(db: Path) -> dict[tuple[str, str, int], str]:
    with sqlite3.connect(db) as c:
        return {(q, s, int(a)): j for q, s, a, j in c.execute(
            "SELECT question_id, stack, attempt, record_json FROM responses")}


def status(db: Path) -> str:
    with sqlite3.connect(db) as c:
        return str(c.execute("SELECT status FROM runs").fetchone()[0])


def runner(store: Store, run_id: str, before_ask: Callable[[int], None],
           concurrency: int = 1) -> Runner:
    # One client per stack, but a shared counter: the fault fires after N asks overall.
    counter = {"n": 0}

    def count(_: int) -> None:
        counter["n"] += 1
        before_ask(counter["n"])

    clients: dict[str, Any] = {"a": InstantClient("a", 20000, count),
                               "b": InstantClient("b", 20002, count)}
    return Runner(store, run_id, clients, "t",
                    RunOptions(warmup=0, concurrency=concurrency))


async def resume_and_check(db: Path, run_id: str, before: dict[tuple[str, str, int], str]
                           ) -> None:
    with Store(db) as store:
        progress = await runner(store, run_id, lambda n: None).run(QUESTIONS)
    after = rows(db)
    assert progress.done == len(PAIRS) - len(before)  # only the missing pairs were asked
    assert all(after.get(k) == v for k, v in before.items())  # nothing stored was touched
    assert {(q, s) for q, s, _ in after} == PAIRS  # no gap
    assert {a for _, _, a in after} == {1}  # no pair asked twice: no duplicate
    assert status(db) == "completed"
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_database_locked_mid_run_stops_cleanly_and_resumes(
        tmp_path: Path, concurrency: int) -> None:
    db = tmp_path / "wb.db"
    store = Store(db, busy_timeout_s=0.2)
    run_id = new_run(store)
    locker = sqlite3.connect(db, isolation_level=None)

    def lock_after_three(n: int) -> None:
        if n == 4:  # three answers are stored, or being stored, by now
            locker.execute("BEGIN EXCLUSIVE")

    ab = runner(store, run_id, lock_after_three, concurrency)
    with pytest.raises(StoreError) as exc:
        await ab.run(QUESTIONS)
    message = str(exc.value)
    assert str(db) in message
    assert "database is locked" in message and "another process holds a write lock" in message
    assert "the run stopped after storing" in message
    assert "left as running" in message  # the status write hit the same lock
    before = rows(db)  # readable under the writer's lock (WAL)
    assert 1 <= len(before) < len(PAIRS)
    locker.execute("ROLLBACK")
    locker.close()
    store.close()
    assert status(db) == "running"  # resumable, as after a crash
    await resume_and_check(db, run_id, before)


async def test_disk_full_mid_run_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    """`PRAGMA max_page_count` makes SQLite fail exactly as on a full disk (SQLITE_FULL)."""
    db = tmp_path / "wb.db"
    store = Store(db)
    run_id = new_run(store)

    def fill_after_two(n: int) -> None:
        if n == 3:
            pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
            store.conn.execute(f"PRAGMA max_page_count = {pages}")

    ab = runner(store, run_id, fill_after_two)
    with pytest.raises(StoreError) as exc:
        await ab.run(QUESTIONS)
    message = str(exc.value)
    assert str(db) in message
    assert "database or disk is full" in message and "no space left" in message
    store.close()
    before = rows(db)
    assert 2 <= len(before) < len(PAIRS)  # some fitted in the last page, then it was full
    assert f"the run stopped after storing {len(before)} answers" in message
    # Either the full database still took the one-row status write or it did not; the
    # runner's message must say which, and the stored status must agree with it.
    said = "failed" if f"run {run_id} marked failed" in message else "running"
    assert said == "failed" or f"run {run_id} left as running" in message, message
    assert status(db) == said
    await resume_and_check(db, run_id, before)


async def test_other_errors_still_mark_the_run_failed_and_are_unwrapped(tmp_path: Path) -> None:
    """A request that raises (not a store fault) fails the run as before, and the error is
    the request's own, not the TaskGroup's wrapper."""
    db = tmp_path / "wb.db"
    store = Store(db)
    run_id = new_run(store)

    def boom(n: int) -> None:
        if n == 2:
            raise RuntimeError("stand-in bug")

    with pytest.raises(RuntimeError, match="stand-in bug"):
        await runner(store, run_id, boom).run(QUESTIONS)
    store.close()
    assert status(db) == "failed"
    assert len(rows(db)) == 1
