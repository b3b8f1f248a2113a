"""(e1)-(e5): the results file read-only, locked or full, before a run and mid-run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from workbench.chaos.faults import (
    FaultUnavailable,
    fill,
    read_only_file,
    small_tmpfs,
)
from workbench.chaos.lab import Lab, wait_rows
from workbench.chaos.report import ScenarioResult
from workbench.chaos.scenarios._checks import (
    Asks,
    count_lost,
    expect_refusal,
    finish,
    resume_complete,
    seed,
    tail,
)
from workbench.store.inspect import (
    RowKey,
    exclusive_lock,
    integrity,
    last_run,
    rows,
)


def database_faults(lab: Lab) -> list[ScenarioResult]:
    """(e) read-only, locked and full database files: a clear error naming the file, and
    the rows already stored are left intact."""
    results: list[ScenarioResult] = []
    args = lab.run_args  # a new 2-question run; it must be refused before asking anything

    ro = ScenarioResult("e1. database read-only", "results file read-only (chmod 444, chattr +i)")
    db = lab.root / "e1.db"
    seed(db)
    try:
        with read_only_file(db):
            expect_refusal(lab, db, ro,
                           lambda: lab.workbench(*args(db, limit=2, timeout_s=30)))
    except FaultUnavailable as exc:
        ro.skipped = str(exc)
    results.append(ro)

    locked = ScenarioResult("e2. database locked", "another connection holds BEGIN EXCLUSIVE")
    db = lab.root / "e2.db"
    seed(db)
    with exclusive_lock(db):
        expect_refusal(lab, db, locked,
                       lambda: lab.workbench(*args(db, limit=2, timeout_s=30)))
    results.append(locked)

    full = ScenarioResult("e3. disk full", "results file on a full 1 MiB tmpfs")
    mount = lab.root / "tmpfs"
    try:
        with small_tmpfs(mount, "1m"):
            db = mount / "e3.db"
            seed(db)
            before = rows(db)
            filler = fill(mount)
            try:
                # Even reading needs a little space (SQLite's shared-memory file).
                expect_refusal(lab, db, full,
                               lambda: lab.workbench(*args(db, limit=2, timeout_s=30)),
                               release=lambda: filler.unlink(), before=before)
            finally:
                filler.unlink(missing_ok=True)
    except FaultUnavailable as exc:
        full.skipped = str(exc)
    shutil.rmtree(mount, ignore_errors=True)
    results.append(full)
    return results


def _stopped_then_resumed(lab: Lab, db: Path, result: ScenarioResult, proc: subprocess.Popen[
        bytes], out: str, before: dict[RowKey, str], what: str, limit: int,
        asks: Asks) -> None:
    """Checks once a database fault stopped a run and the fault was lifted: a clear error
    naming the file (no traceback), every stored row kept, the run still resumable (its
    status the one the error names); then `--resume` completes it, asking again only
    what was in flight at the stop, with no gap."""
    asks.stopped(result)
    run_id, stopped_status = last_run(db)
    stopped = rows(db)
    result.check(proc.returncode not in (0, None), f"the runner did not stop (exit "
                 f"{proc.returncode}): {tail(out)}")
    result.check(str(db) in out, f"the error does not name {db}: {tail(out)}")
    result.check(what in out, f"the error does not say {what!r}: {tail(out)}")
    result.check(f"--resume {run_id}" in out, f"the error does not say how to resume: {tail(out)}")
    result.check("Traceback" not in out, f"a traceback instead of a clear error: {tail(out)}")
    # The runner marks the run failed when the database takes that one write, else
    # leaves it running (as after a crash); its error says which, and must be right.
    said = "failed" if f"run {run_id} marked failed" in out else "running"
    result.check(said == "failed" or f"run {run_id} left as running" in out,
                 f"the error does not say what became of run {run_id}: {tail(out)}")
    result.check(stopped_status == said,
                 f"the stopped run says {stopped_status}, the error said {said}")
    result.check(integrity(db) == "ok", "integrity_check failed after the fault")
    result.check(len(stopped) < 2 * limit, "the run finished despite the fault")
    message = next((ln for ln in out.splitlines() if ln.startswith("error:")), "")
    result.notes.append(message.replace(str(db), db.name)[:90])
    after, latest = resume_complete(lab, db, run_id, result, limit)
    result.lost = count_lost(before, after) + count_lost(stopped, after)
    asks.check(result)
    result.check(integrity(db) == "ok", "integrity_check failed after --resume")
    result.errors_recorded = sum(1 for v in latest.values() if v.status != "ok")
    result.notes.append(f"{len(stopped)} kept at the stop (status {stopped_status}), "
                        f"{len(after)} after --resume; integrity ok")


def database_locked_mid_run(lab: Lab, limit: int = 4) -> ScenarioResult:
    """(e4) another process takes the write lock after some answers are stored: the runner's
    next write times out (busy), it stops with a clear error and keeps what it stored;
    once the lock is gone `--resume` completes the run."""
    result = ScenarioResult("e4. database locked mid-run",
                            "BEGIN EXCLUSIVE from another process after 2 answers, held "
                            "until the runner stops")
    db = lab.root / "e4.db"
    asks = Asks.start(lab, db)
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 2, proc)
    with exclusive_lock(db, wait_s=30):
        before = rows(db)  # WAL: readable under another's write lock; nothing can be added
        out = finish(proc)
        result.check(rows(db) == before, "rows changed while the database was locked")
    _stopped_then_resumed(lab, db, result, proc, out, before, "database is locked", limit,
                          asks)
    return result


def disk_full_mid_run(lab: Lab, limit: int = 4) -> ScenarioResult:
    """(e5) the results file's disk fills up after some answers are stored: the next write
    fails (SQLITE_FULL), the runner stops with a clear error; the rows in the database and
    its write-ahead log survive; space freed, `--resume` completes the run."""
    result = ScenarioResult("e5. disk full mid-run",
                            "results file on a 4 MiB tmpfs, filled to 0 bytes free after "
                            "2 answers")
    mount = lab.root / "tmpfs-e5"
    try:
        with small_tmpfs(mount, "4m"):
            db = mount / "e5.db"
            asks = Asks.start(lab, db)
            proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
            wait_rows(db, 2, proc)
            filler = fill(mount)
            try:
                before = rows(db)  # the runner keeps the shared-memory file: reading works
                out = finish(proc)
            finally:
                filler.unlink(missing_ok=True)
            _stopped_then_resumed(lab, db, result, proc, out, before,
                                  "database or disk is full", limit, asks)
    except FaultUnavailable as exc:
        result.skipped = str(exc)
    shutil.rmtree(mount, ignore_errors=True)
    return result
