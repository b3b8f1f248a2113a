"""(a)-(d): faults in the processes of a run: an engine killed or frozen, the runner
killed, a RAG service restarted."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from workbench.chaos.faults import frozen, kill_group
from workbench.chaos.lab import Lab, wait_rows
from workbench.chaos.report import ScenarioResult
from workbench.chaos.scenarios._checks import (
    Asks,
    b_failed_alone,
    count_lost,
    finish,
    resume_complete,
    retry_and_check,
    settle,
)
from workbench.stacks.process import Server
from workbench.store.inspect import last_run, rows


def _kill_mid_run(lab: Lab, db: Path, server: Server, limit: int) -> subprocess.Popen[bytes]:
    """Start a run into `db`, kill -9 `server`'s group once two answers are stored, and
    wait until it is gone; returns the still-running runner."""
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 2, proc)
    kill_group(server.pid)
    server.reap()
    return proc


def engine_killed(lab: Lab, limit: int = 5) -> ScenarioResult:
    """(a) kill -9 stack B's engine mid-run; B's requests fail with a reason, A is untouched;
    restart the engine, `--retry-failed` fills the gaps."""
    result = ScenarioResult("a. engine killed", "kill -9 engine B's process group mid-run")
    db = lab.root / "a.db"
    asks = Asks.start(lab, db)
    engine = lab.engines["B"]
    proc = _kill_mid_run(lab, db, engine, limit)
    before = rows(db)
    run_id, latest = settle(result, db, proc, before, finish(proc))
    b_bad = b_failed_alone(result, latest)
    result.check(bool(b_bad), "no request of stack B failed after its engine was killed")
    result.check(all(v.error for v in b_bad), "a failed request has no reason")
    if b_bad:
        result.notes.append(f"B: {(b_bad[-1].error or '')[:70]}")
    engine.start(60)
    retry_and_check(lab, db, run_id, result)
    asks.check(result)
    return result


def engine_frozen(lab: Lab, limit: int = 4, timeout_s: float = 4.0) -> ScenarioResult:
    """(b) SIGSTOP stack B's engine mid-run: per-request timeouts fire, the run completes;
    then SIGCONT, and `--retry-failed` succeeds against the thawed engine."""
    result = ScenarioResult("b. engine frozen",
                            f"SIGSTOP engine B mid-run (--timeout {timeout_s:g}), then SIGCONT")
    db = lab.root / "b.db"
    asks = Asks.start(lab, db)
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=timeout_s))
    wait_rows(db, 2, proc)
    engine = lab.engines["B"]
    with frozen(engine.pid):
        before = rows(db)
        out = finish(proc)
    run_id, latest = settle(result, db, proc, before, out)
    b_bad = b_failed_alone(result, latest)
    result.check(bool(b_bad) and all(v.status == "timeout" for v in b_bad),
                 f"frozen engine's requests not recorded as timeouts: {b_bad}")
    if b_bad:
        result.notes.append(f"B: {b_bad[-1].status}: {(b_bad[-1].error or '')[:50]}")
    engine.wait_healthy(60)
    lab.wait_engine_idle("B")
    retry_and_check(lab, db, run_id, result)
    asks.check(result)
    return result


def runner_killed(lab: Lab, limit: int = 5) -> ScenarioResult:
    """(c) kill -9 the runner mid-run; `--resume` finishes asking again only what was in
    flight at the kill, with no gap."""
    result = ScenarioResult("c. runner killed", "kill -9 the runner mid-run, then --resume")
    db = lab.root / "c.db"
    asks = Asks.start(lab, db)
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 3, proc)
    kill_group(proc.pid)
    proc.wait(timeout=30)
    asks.stopped(result)
    before = rows(db)
    run_id, status = last_run(db)
    result.check(status == "running", f"a killed run should still say running, not {status}")
    result.check(len(before) < 2 * limit, "the run finished before it was killed")
    after, latest = resume_complete(lab, db, run_id, result, limit)
    result.lost = count_lost(before, after)
    asks.check(result)  # --resume asked what was in flight at the kill, nothing more
    result.errors_recorded = sum(1 for v in latest.values() if v.status != "ok")
    result.notes.append(f"{len(before)} stored before the kill, {len(after)} after --resume")
    return result


def rag_restarted(lab: Lab, limit: int = 5) -> ScenarioResult:
    """(d) kill -9 stack B's RAG service mid-run and start it again on the same port: the
    runner retries refused connections with backoff and the run completes."""
    result = ScenarioResult("d. RAG service restarted",
                            "kill -9 RAG service B mid-run, start it again on its port")
    db = lab.root / "d.db"
    asks = Asks.start(lab, db)
    rag = lab.rags["B"]
    proc = _kill_mid_run(lab, db, rag, limit)
    before = rows(db)
    started = time.monotonic()
    rag.start()
    restart_s = time.monotonic() - started
    run_id, latest = settle(result, db, proc, before, finish(proc))
    bad = [v for v in latest.values() if v.status != "ok"]
    result.errors_recorded = len(bad)
    # At most the one request in flight when the service died is lost to it; every later
    # one found the port refused and was retried until the service was back.
    result.check(len(bad) <= 1, f"{len(bad)} requests failed; only the one in flight may: "
                 f"{[v.error for v in bad]}")
    result.notes.append(f"back after {restart_s:.0f} s")
    if bad:
        result.notes.append(f"in flight: {(bad[0].error or '')[:40]}")
    retry_and_check(lab, db, run_id, result)
    # The request in flight at the kill may have died before the service read it.
    asks.check(result, unreceived_ok=len(bad))
    return result
