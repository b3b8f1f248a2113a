"""The fault scenarios: each injects one fault into a real process or file and returns a row.

Every scenario drives the real runner CLI (`python -m workbench run ...`) against the
lab's real stacks and counts rows in the real SQLite file. Counting rules:
- results lost: responses stored before the fault that are missing (or changed) after;
- duplicates: extra rows sharing one (run, question, side, attempt) key.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.chaos.faults import (
    FaultUnavailable,
    exclusive_lock,
    fill,
    frozen,
    kill_group,
    read_only_file,
    small_tmpfs,
)
from workbench.chaos.lab import Lab, RowKey, duplicates, read_db, rows, wait_rows
from workbench.chaos.report import ScenarioResult

#: Seconds the runner may take to finish a small run after a fault.
FINISH_TIMEOUT_S = 300


@dataclass
class Latest:
    """The latest attempt of one (question, side)."""

    attempt: int
    status: str
    error: str | None


def _finish(proc: subprocess.Popen[bytes]) -> str:
    out, _ = proc.communicate(timeout=FINISH_TIMEOUT_S)
    return out.decode(errors="replace") if out else ""


def _run(db: Path) -> tuple[str, str]:
    with read_db(db) as c:
        run_id, status = c.execute(
            "SELECT id, status FROM runs ORDER BY created_utc DESC LIMIT 1").fetchone()
    return str(run_id), str(status)


def _latest(db: Path, run_id: str) -> dict[tuple[str, str], Latest]:
    with read_db(db) as c:
        found = c.execute(
            "SELECT question_id, side, attempt, status, error FROM responses WHERE run_id = ?"
            " ORDER BY attempt", (run_id,)).fetchall()
    return {(q, s): Latest(int(a), st, err) for q, s, a, st, err in found}


def _n_questions(db: Path, run_id: str) -> int:
    with read_db(db) as c:
        return int(c.execute("SELECT COUNT(*) FROM questions WHERE run_id = ?",
                             (run_id,)).fetchone()[0])


def _lost(before: dict[RowKey, str], after: dict[RowKey, str]) -> int:
    return sum(1 for k, v in before.items() if after.get(k) != v)


def _tail(text: str, n: int = 400) -> str:
    return text.strip()[-n:]


def _retry_and_check(lab: Lab, db: Path, run_id: str, result: ScenarioResult) -> None:
    """`--retry-failed` the run; afterwards every pair's latest attempt must be ok."""
    before = rows(db)
    done = lab.workbench("run", "--retry-failed", run_id, "--no-report", "--db", str(db))
    result.check(done.returncode == 0, f"--retry-failed exited {done.returncode}: "
                 f"{_tail(done.stdout + done.stderr)}")
    after = rows(db)
    result.lost += _lost(before, after)
    result.duplicates = duplicates(db)
    latest = _latest(db, run_id)
    want = 2 * _n_questions(db, run_id)
    ok = sum(1 for v in latest.values() if v.status == "ok")
    result.check(len(latest) == want, f"gap: {len(latest)} of {want} pairs stored")
    result.check(ok == want, f"after --retry-failed only {ok}/{want} latest attempts ok")
    result.notes.append(f"after --retry-failed {ok}/{want} latest attempts ok")


def _settle(result: ScenarioResult, db: Path, proc: subprocess.Popen[bytes],
            before: dict[RowKey, str], out: str) -> tuple[str, dict[tuple[str, str], Latest]]:
    """Common checks once a faulted run ended: completed, nothing lost, no duplicate."""
    run_id, status = _run(db)
    result.completed = proc.returncode == 0 and status == "completed"
    result.check(result.completed, f"run ended {status}, exit {proc.returncode}: {_tail(out)}")
    result.lost, result.duplicates = _lost(before, rows(db)), duplicates(db)
    return run_id, _latest(db, run_id)


def _side_b_failed_alone(result: ScenarioResult,
                         latest: dict[tuple[str, str], Latest]) -> list[Latest]:
    """Side A must be untouched by a fault injected into side B; returns B's failures."""
    a_bad = [k for k, v in latest.items() if k[1] == "A" and v.status != "ok"]
    b_bad = [v for k, v in latest.items() if k[1] == "B" and v.status != "ok"]
    result.errors_recorded = len(b_bad)
    result.check(not a_bad, f"side A affected: {a_bad}")
    return b_bad


def engine_killed(lab: Lab, limit: int = 5) -> ScenarioResult:
    """(a) kill -9 side B's engine mid-run; B's requests fail with a reason, A is untouched;
    restart the engine, `--retry-failed` fills the gaps."""
    result = ScenarioResult("a. engine killed", "kill -9 engine B's process group mid-run")
    db = lab.root / "a.db"
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 2, proc)
    engine = lab.engines["B"]
    kill_group(engine.pid)
    engine.reap()
    before = rows(db)
    run_id, latest = _settle(result, db, proc, before, _finish(proc))
    b_bad = _side_b_failed_alone(result, latest)
    result.check(bool(b_bad), "no request of side B failed after its engine was killed")
    result.check(all(v.error for v in b_bad), "a failed request has no reason")
    if b_bad:
        result.notes.append(f"B: {(b_bad[-1].error or '')[:70]}")
    engine.start(60)
    _retry_and_check(lab, db, run_id, result)
    return result


def engine_frozen(lab: Lab, limit: int = 4, timeout_s: float = 4.0) -> ScenarioResult:
    """(b) SIGSTOP side B's engine mid-run: per-request timeouts fire, the run completes;
    then SIGCONT, and `--retry-failed` succeeds against the thawed engine."""
    result = ScenarioResult("b. engine frozen",
                            f"SIGSTOP engine B mid-run (--timeout {timeout_s:g}), then SIGCONT")
    db = lab.root / "b.db"
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=timeout_s))
    wait_rows(db, 2, proc)
    engine = lab.engines["B"]
    with frozen(engine.pid):
        before = rows(db)
        out = _finish(proc)
    run_id, latest = _settle(result, db, proc, before, out)
    b_bad = _side_b_failed_alone(result, latest)
    result.check(bool(b_bad) and all(v.status == "timeout" for v in b_bad),
                 f"frozen engine's requests not recorded as timeouts: {b_bad}")
    if b_bad:
        result.notes.append(f"B: {b_bad[-1].status}: {(b_bad[-1].error or '')[:50]}")
    engine.wait_healthy(60)
    lab.wait_engine_idle("B")
    _retry_and_check(lab, db, run_id, result)
    return result


def runner_killed(lab: Lab, limit: int = 5) -> ScenarioResult:
    """(c) kill -9 the runner mid-run; `--resume` finishes with no duplicate and no gap."""
    result = ScenarioResult("c. runner killed", "kill -9 the runner mid-run, then --resume")
    db = lab.root / "c.db"
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 3, proc)
    kill_group(proc.pid)
    proc.wait(timeout=30)
    before = rows(db)
    run_id, status = _run(db)
    result.check(status == "running", f"a killed run should still say running, not {status}")
    result.check(len(before) < 2 * limit, "the run finished before it was killed")
    done = lab.workbench("run", "--resume", run_id, "--no-report", "--db", str(db))
    _, status = _run(db)
    result.completed = done.returncode == 0 and status == "completed"
    result.check(result.completed, f"--resume: run {status}, exit {done.returncode}: "
                 f"{_tail(done.stdout + done.stderr)}")
    after = rows(db)
    result.lost, result.duplicates = _lost(before, after), duplicates(db)
    latest = _latest(db, run_id)
    result.check(len(latest) == 2 * limit, f"gap: {len(latest)} of {2 * limit} pairs stored")
    result.check(all(v.attempt == 1 for v in latest.values()), "a pair was asked twice")
    result.errors_recorded = sum(1 for v in latest.values() if v.status != "ok")
    result.notes.append(f"{len(before)} stored before the kill, {len(after)} after --resume")
    return result


def rag_restarted(lab: Lab, limit: int = 5) -> ScenarioResult:
    """(d) kill -9 side B's RAG service mid-run and start it again on the same port: the
    runner retries refused connections with backoff and the run completes."""
    result = ScenarioResult("d. RAG service restarted",
                            "kill -9 RAG service B mid-run, start it again on its port")
    db = lab.root / "d.db"
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 2, proc)
    rag = lab.rags["B"]
    kill_group(rag.pid)
    rag.reap()
    before = rows(db)
    started = time.monotonic()
    rag.start()
    restart_s = time.monotonic() - started
    run_id, latest = _settle(result, db, proc, before, _finish(proc))
    bad = [v for v in latest.values() if v.status != "ok"]
    result.errors_recorded = len(bad)
    # At most the one request in flight when the service died is lost to it; every later
    # one found the port refused and was retried until the service was back.
    result.check(len(bad) <= 1, f"{len(bad)} requests failed; only the one in flight may: "
                 f"{[v.error for v in bad]}")
    result.notes.append(f"back after {restart_s:.0f} s")
    if bad:
        result.notes.append(f"in flight: {(bad[0].error or '')[:40]}")
    _retry_and_check(lab, db, run_id, result)
    return result


def _seed(db: Path) -> None:
    from workbench.store.db import Store
    from workbench.store.synthetic import store_synthetic_run

    with Store(db) as store:
        store_synthetic_run(store, n_questions=5)


def _refusal(db: Path, result: ScenarioResult, inject: Callable[[], object],
             release: Callable[[], object] | None = None,
             before: dict[RowKey, str] | None = None) -> None:
    """Start a new run on a seeded `db` under a fault; expect a clear error naming the
    file, then (after `release`, if reading needs it) the stored rows intact."""
    result.refusal = True
    before = rows(db) if before is None else before
    result.check(bool(before), f"{db} was not seeded")
    done = inject()
    if release is not None:
        release()
    assert isinstance(done, subprocess.CompletedProcess)
    out = str(done.stdout) + str(done.stderr)
    named = str(db) in out
    clean = "Traceback" not in out
    result.completed = done.returncode != 0 and named and clean
    result.check(done.returncode != 0, "the run did not fail")
    result.check(named, f"the error does not name {db}: {_tail(out)}")
    result.check(clean, f"a traceback instead of a clear error: {_tail(out)}")
    result.lost, result.duplicates = _lost(before, rows(db)), duplicates(db)
    result.check(len(rows(db)) == len(before), "rows changed")
    message = next((ln for ln in out.splitlines() if ln.startswith("error:")), out.strip())
    result.notes.append(message.replace(str(db), db.name)[:90])


def database_faults(lab: Lab) -> list[ScenarioResult]:
    """(e) read-only, locked and full database files: a clear error naming the file, and
    the rows already stored are left intact."""
    results: list[ScenarioResult] = []
    args = lab.run_args  # a new 2-question run; it must be refused before asking anything

    ro = ScenarioResult("e1. database read-only", "results file read-only (chmod 444, chattr +i)")
    db = lab.root / "e1.db"
    _seed(db)
    try:
        with read_only_file(db):
            _refusal(db, ro, lambda: lab.workbench(*args(db, limit=2, timeout_s=30)))
    except FaultUnavailable as exc:
        ro.skipped = str(exc)
    results.append(ro)

    locked = ScenarioResult("e2. database locked", "another connection holds BEGIN EXCLUSIVE")
    db = lab.root / "e2.db"
    _seed(db)
    with exclusive_lock(db):
        _refusal(db, locked, lambda: lab.workbench(*args(db, limit=2, timeout_s=30)))
    results.append(locked)

    full = ScenarioResult("e3. disk full", "results file on a full 1 MiB tmpfs")
    mount = lab.root / "tmpfs"
    try:
        with small_tmpfs(mount, "1m"):
            db = mount / "e3.db"
            _seed(db)
            before = rows(db)
            filler = fill(mount)
            try:
                # Even reading needs a little space (SQLite's shared-memory file).
                _refusal(db, full, lambda: lab.workbench(*args(db, limit=2, timeout_s=30)),
                         release=lambda: filler.unlink(), before=before)
            finally:
                filler.unlink(missing_ok=True)
    except FaultUnavailable as exc:
        full.skipped = str(exc)
    shutil.rmtree(mount, ignore_errors=True)
    results.append(full)
    return results


#: Every scenario, in the order `python -m workbench.chaos` runs them.
SCENARIOS: list[Callable[[Lab], ScenarioResult | list[ScenarioResult]]] = [
    engine_killed, engine_frozen, runner_killed, rag_restarted, database_faults,
]
