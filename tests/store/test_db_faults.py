"""The store under a locked or full database: errors name the file and say what the SQLite
message means; a best-effort status write gives up quickly instead of waiting out the
store's own busy timeout."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.store.test_db import QUESTIONS, RECIPE, new_run, record
from workbench.store import Store, StoreError


def test_locked_write_names_the_file_and_the_cause(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db, busy_timeout_s=0.2) as store:
        run_id = new_run(store)
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(StoreError) as exc:
            store.add_response(record(run_id, "q1", "A"))
        assert time.monotonic() - started < 5  # the store's busy timeout, not sqlite's 5 s
        locker.execute("ROLLBACK")
        locker.close()
        assert str(exc.value).startswith(f"{db}: write failed: database is locked")
        assert "another process holds a write lock" in str(exc.value)
        assert store.count_responses(run_id) == 0  # the failed write left nothing half-done
        store.add_response(record(run_id, "q1", "A"))  # and the store still works after
        assert store.count_responses(run_id) == 1


def test_full_database_says_so(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db) as store:
        run_id = new_run(store)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL, as on a full disk
        with pytest.raises(StoreError, match="database or disk is full") as exc:
            for i in range(200):
                store.add_response(record(run_id, "q1", "A", attempt=i + 1, answer="x" * 500))
        assert "no space left" in str(exc.value) and str(db) in str(exc.value)
        stored = store.count_responses(run_id)
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == stored


def test_try_set_status_gives_up_quickly_under_a_lock(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db, busy_timeout_s=5) as store:
        run_id = store.create_run(evalset="t", evalset_digest="d", schedule="interleaved",
                                  stacks=list(RECIPE.values()), questions=QUESTIONS,
                                  manifest={}, limit=None)
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        assert store.try_set_status(run_id, "failed", busy_timeout_s=0.2) is False
        assert time.monotonic() - started < 2  # not the store's 5 s
        locker.execute("ROLLBACK")
        locker.close()
        assert store.try_set_status(run_id, "failed") is True
        assert store.get_run(run_id)["status"] == "failed"
        # The store's own busy timeout is back after the best-effort write.
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
