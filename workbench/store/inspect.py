"""Reading a results file from outside the process that writes it: what the fault-injection
lab (`make chaos`) checks after each fault, and the lock it injects.

Read-only connections, opened and closed per call (an open file would keep a tmpfs busy),
so a check never holds a lock the runner under test needs. Only store/ speaks SQL; the lab
asks through these functions.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: A stored response's key: (run, question, stack, attempt).
RowKey = tuple[str, str, str, int]


@dataclass(frozen=True)
class Latest:
    """The outcome of one (stack, question)'s latest attempt."""

    attempt: int
    status: str
    error: str | None


def _read(db: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30))


def rows(db: Path) -> dict[RowKey, str]:
    """Every stored response by (run, question, stack, attempt) -> its record JSON; empty
    while the file or its schema does not exist yet."""
    if not db.exists():
        return {}
    with _read(db) as c:
        try:
            return {(r, q, s, int(a)): j for r, q, s, a, j in c.execute(
                "SELECT run_id, question_id, stack, attempt, record_json FROM responses")}
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # the runner is still creating the schema
                return {}
            raise


def last_run(db: Path) -> tuple[str, str]:
    """The newest run's id and status."""
    with _read(db) as c:
        run_id, status = c.execute(
            "SELECT id, status FROM runs ORDER BY created_utc DESC LIMIT 1").fetchone()
    return str(run_id), str(status)


def run_statuses(db: Path) -> list[tuple[str, str]]:
    """Every run's (id, status), in id order."""
    with _read(db) as c:
        return [(str(i), str(s)) for i, s in c.execute("SELECT id, status FROM runs ORDER BY id")]


def latest_outcomes(db: Path, run_id: str) -> dict[tuple[str, str], Latest]:
    """Each (stack, question)'s latest attempt in `run_id`, its outcome only: read from the
    file, by the `latest_responses` rule (as `records.responses.latest_attempts` does for
    records in memory, keyed the same way)."""
    with _read(db) as c:
        found = c.execute(
            "SELECT stack, question_id, attempt, status, error FROM latest_responses"
            " WHERE run_id = ?", (run_id,)).fetchall()
    return {(s, q): Latest(int(a), st, err) for s, q, a, st, err in found}


def n_questions(db: Path, run_id: str) -> int:
    """How many questions `run_id` asks."""
    with _read(db) as c:
        return int(c.execute("SELECT COUNT(*) FROM questions WHERE run_id = ?",
                             (run_id,)).fetchone()[0])


def integrity(db: Path) -> str:
    """SQLite's `PRAGMA integrity_check` answer (`ok` when sound)."""
    with _read(db) as c:
        return str(c.execute("PRAGMA integrity_check").fetchone()[0])


@contextlib.contextmanager
def exclusive_lock(db: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Another connection holds an exclusive lock on `db` for the duration of the block.

    `wait_s`: how long to wait for the lock when another process (a runner mid-commit)
    holds it at that moment; 0 fails at once.
    """
    conn = sqlite3.connect(db, timeout=wait_s, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()
