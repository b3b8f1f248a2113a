"""(g1)-(g5): faults on remote stacks, on loopback aliases that stand in for other machines
(`Lab.start_remote`): a real llama.cpp on 127.0.0.2 behind a local RAG service (`remote-b`)
and a breakable fake seed backend on 127.0.0.3 (`ext-json`, `ext-sse`).

Every run is `stack-a` (local) against one remote stack, started with `--allow-remote`.
What must hold: the run completes; the remote stack's failures are stored as errors that
name its URL, counted for that stack alone (stack A untouched, the runner's closing line
says so); nothing stored is lost and no question asked again; once the fault is gone
`--retry-failed` makes every pair's latest attempt ok; and `--resume` of the finished run
asks nothing again.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from workbench.chaos.faults import frozen, kill_group
from workbench.chaos.lab import LAB_STACKS, Lab, wait_rows
from workbench.chaos.remote_fake import Mode
from workbench.chaos.report import ScenarioResult
from workbench.chaos.scenarios._checks import (
    Asks,
    count_lost,
    finish,
    retry_and_check,
    settle,
    tail,
)
from workbench.store.inspect import Latest, rows


def _start(lab: Lab, db: Path, stack: str, limit: int, timeout_s: float
           ) -> subprocess.Popen[bytes]:
    lab.start_remote()
    return lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=timeout_s,
                                         stacks=f"{LAB_STACKS['A']},{stack}",
                                         extra=("--allow-remote",)))


def _remote_failed_alone(result: ScenarioResult, latest: dict[tuple[str, str], Latest],
                         stack: str, url: str, out: str) -> list[Latest]:
    """Stack A untouched; the remote stack's failures name `url` and are the errors the
    runner counted for it; returns them."""
    a_bad = [k for k, v in latest.items() if k[0] == LAB_STACKS["A"] and v.status != "ok"]
    bad = [v for k, v in latest.items() if k[0] == stack and v.status != "ok"]
    result.errors_recorded = len(bad)
    result.check(not a_bad, f"stack A affected: {a_bad}")
    result.check(bool(bad), f"no request of {stack} failed under the fault")
    unnamed = [v.error for v in bad if url not in (v.error or "")]
    result.check(not unnamed, f"failures that do not name {url}: {unnamed[:2]}")
    counted = re.search(rf"\b{re.escape(stack)}=(\d+)", out)
    result.check(counted is not None and int(counted.group(1)) == len(bad),
                 f"the runner counted {counted.group(1) if counted else '?'} errors for "
                 f"{stack}, {len(bad)} stored: {tail(out, 200)}")
    result.check(f"{stack} " in out and "(remote)" in out,
                 f"the runner did not say where {stack}'s traffic goes: {tail(out, 200)}")
    if bad:
        result.notes.append(f"{stack}: {(bad[-1].error or '')[:60]}")
    return bad


def _resume_adds_nothing(lab: Lab, db: Path, run_id: str, result: ScenarioResult) -> None:
    """`--resume` of the finished run (no flag: its remote URLs were allowed at its start)
    completes and stores nothing new."""
    before = rows(db)
    done = lab.workbench("run", "--resume", run_id, "--no-report", "--db", str(db))
    result.check(done.returncode == 0, f"--resume exited {done.returncode}: "
                 f"{tail(done.stdout + done.stderr)}")
    after = rows(db)
    result.lost += count_lost(before, after)
    result.check(len(after) == len(before), f"--resume stored {len(after) - len(before)} rows")


def remote_engine_refuses(lab: Lab, limit: int = 4) -> ScenarioResult:
    """(g1) kill -9 the remote engine (127.0.0.2) mid-run: its port refuses connections."""
    result = ScenarioResult("g1. remote engine refuses",
                            "kill -9 the engine on 127.0.0.2 mid-run (connections refused)")
    db = lab.root / "g1.db"
    lab.start_remote()
    asks = Asks.start(lab, db)
    proc = _start(lab, db, "remote-b", limit, 60)
    assert lab.remote_engine is not None
    url = lab.remote_engine.health_url.rsplit("/", 1)[0]
    wait_rows(db, 2, proc)
    kill_group(lab.remote_engine.pid)
    lab.remote_engine.reap()
    before = rows(db)
    out = finish(proc)
    run_id, latest = settle(result, db, proc, before, out)
    _remote_failed_alone(result, latest, "remote-b", url, out)
    lab.remote_engine.start(60)
    retry_and_check(lab, db, run_id, result)
    _resume_adds_nothing(lab, db, run_id, result)
    asks.check(result)
    return result


def remote_engine_stalls(lab: Lab, limit: int = 4, timeout_s: float = 4.0) -> ScenarioResult:
    """(g2) SIGSTOP the remote engine mid-run: it keeps its socket and answers nothing."""
    result = ScenarioResult("g2. remote engine stalls",
                            f"SIGSTOP the engine on 127.0.0.2 mid-run (--timeout {timeout_s:g})")
    db = lab.root / "g2.db"
    lab.start_remote()
    asks = Asks.start(lab, db)
    proc = _start(lab, db, "remote-b", limit, timeout_s)
    assert lab.remote_engine is not None
    url = lab.remote_engine.health_url.rsplit("/", 1)[0]
    wait_rows(db, 2, proc)
    with frozen(lab.remote_engine.pid):
        before = rows(db)
        out = finish(proc)
    run_id, latest = settle(result, db, proc, before, out)
    bad = _remote_failed_alone(result, latest, "remote-b", url, out)
    result.check(all(v.status == "timeout" for v in bad),
                 f"a stalled engine's requests are not timeouts: {[v.status for v in bad]}")
    lab.remote_engine.wait_healthy(60)
    lab.wait_engine_idle("remote")
    retry_and_check(lab, db, run_id, result)
    _resume_adds_nothing(lab, db, run_id, result)
    asks.check(result)
    return result


def _broken_backend(lab: Lab, name: str, stack: str, mode: Mode, fault: str,
                    limit: int) -> ScenarioResult:
    result = ScenarioResult(name, fault)
    db = lab.root / f"{name.split('.')[0]}.db"
    lab.start_remote()
    assert lab.fake is not None
    asks = Asks.start(lab, db)
    lab.fake.fail(mode, after=1)  # the first answer is whole: the fault comes mid-run
    try:
        proc = _start(lab, db, stack, limit, 30)
        before = rows(db)
        out = finish(proc)
    finally:
        lab.fake.fail("ok")
    run_id, latest = settle(result, db, proc, before, out)
    _remote_failed_alone(result, latest, stack, lab.fake.url, out)
    retry_and_check(lab, db, run_id, result)
    _resume_adds_nothing(lab, db, run_id, result)
    asks.check(result)
    return result


def remote_malformed_json(lab: Lab, limit: int = 3) -> ScenarioResult:
    """(g3) the remote backend answers HTTP 200 with JSON cut mid-object."""
    return _broken_backend(lab, "g3. remote sends malformed JSON", "ext-json", "bad_json",
                           "backend on 127.0.0.3 answers 200 with cut-off JSON", limit)


def remote_malformed_sse(lab: Lab, limit: int = 3) -> ScenarioResult:
    """(g4) the remote backend's event stream carries an event that is not JSON."""
    return _broken_backend(lab, "g4. remote sends malformed SSE", "ext-sse", "bad_sse",
                           "backend on 127.0.0.3 streams an event that is not JSON", limit)


def remote_resets(lab: Lab, limit: int = 3) -> ScenarioResult:
    """(g5) the remote backend resets the connection (TCP RST) after reading the request."""
    return _broken_backend(lab, "g5. remote resets the connection", "ext-json", "reset",
                           "backend on 127.0.0.3 sends RST instead of an answer", limit)


REMOTE_SCENARIOS = [remote_engine_refuses, remote_engine_stalls, remote_malformed_json,
                    remote_malformed_sse, remote_resets]
