"""Kill -9 the runner mid-run, resume: nothing lost, nothing doubled (real SQLite, real stacks)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]

N_QUESTIONS = 8


def workbench(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900, check=False)


def rows(db: Path) -> list[tuple[str, str, int, str]]:
    with sqlite3.connect(db) as c:
        try:
            return [tuple(r) for r in c.execute(
                "SELECT question_id, stack, attempt, record_json FROM responses ORDER BY rowid")]
        except sqlite3.OperationalError:  # the runner is still creating the schema
            return []


def test_resume_after_kill_9(rag_pair: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    env = {**rag_pair}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "run", "--evalset", "demo-en", "--stacks",
         "side-a,side-b", "--limit", str(N_QUESTIONS), "--no-report", "--db", str(db)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if db.exists() and len(rows(db)) >= 5:
            break
        if proc.poll() is not None:
            output = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"runner exited early: {output}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = rows(db)
    assert 5 <= len(before) < 2 * N_QUESTIONS
    with sqlite3.connect(db) as c:
        run_id, status = c.execute("SELECT id, status FROM runs").fetchone()
    assert status == "running"  # it was killed, nobody marked it

    done = workbench("run", "--resume", run_id, "--no-report", "--db", str(db), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    after = rows(db)
    keys = [(q, s, a) for q, s, a, _ in after]
    assert len(after) == 2 * N_QUESTIONS
    assert len(set(keys)) == len(keys)  # no duplicate
    assert after[: len(before)] == before  # what was stored is untouched
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT status FROM runs").fetchone()[0] == "completed"
        qids = [r[0] for r in c.execute("SELECT id FROM questions")]
    assert len(qids) == N_QUESTIONS
    assert {(q, s) for q, s, _ in keys} == {(q, s) for q in qids for s in ("side-a", "side-b")}

    listed = workbench("runs", "list", "--format", "json", "--db", str(db), env=env)
    assert run_id in listed.stdout and '"completed"' in listed.stdout
