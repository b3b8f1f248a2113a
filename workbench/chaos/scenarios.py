"""The fault scenarios: each injects one fault into a real process or file and returns a row.

Every scenario drives the real runner CLI (`python -m workbench run ...`) against the
lab's real stacks and counts rows in the real SQLite file. Counting rules:
- results lost: responses stored before the fault that are missing (or changed) after;
- duplicates: extra rows sharing one (run, question, side, attempt) key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
from workbench.chaos.lab import (
    Lab,
    RowKey,
    duplicates,
    read_db,
    rows,
    wait_rows,
)
from workbench.chaos.report import ScenarioResult
from workbench.stacks.process import free_port

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


def _resume_complete(lab: Lab, db: Path, run_id: str, result: ScenarioResult, limit: int
                     ) -> tuple[dict[RowKey, str], dict[tuple[str, str], Latest]]:
    """`--resume` the run: it must complete with every pair stored once, none re-asked.
    Returns the rows and the latest attempt of each pair."""
    done = lab.workbench("run", "--resume", run_id, "--no-report", "--db", str(db))
    _, status = _run(db)
    result.completed = done.returncode == 0 and status == "completed"
    result.check(result.completed, f"--resume: run {status}, exit {done.returncode}: "
                 f"{_tail(done.stdout + done.stderr)}")
    latest = _latest(db, run_id)
    result.check(len(latest) == 2 * limit, f"gap: {len(latest)} of {2 * limit} pairs stored")
    result.check(all(v.attempt == 1 for v in latest.values()), "a pair was asked twice")
    return rows(db), latest


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
    after, latest = _resume_complete(lab, db, run_id, result, limit)
    result.lost, result.duplicates = _lost(before, after), duplicates(db)
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
             before: dict[RowKey, str] | None = None, *, names_db: bool = True) -> str:
    """Start a new run on a seeded `db` under a fault; expect a clear error naming the
    file (`names_db`: the database; else the caller checks which file), then (after
    `release`, if reading needs it) the stored rows intact. Returns the CLI's output."""
    result.refusal = True
    before = rows(db) if before is None else before
    result.check(bool(before), f"{db} was not seeded")
    done = inject()
    if release is not None:
        release()
    assert isinstance(done, subprocess.CompletedProcess)
    out = str(done.stdout) + str(done.stderr)
    named = str(db) in out or not names_db
    clean = "Traceback" not in out
    result.completed = done.returncode != 0 and named and clean
    result.check(done.returncode != 0, "the run did not fail")
    result.check(named, f"the error does not name {db}: {_tail(out)}")
    result.check(clean, f"a traceback instead of a clear error: {_tail(out)}")
    result.lost, result.duplicates = _lost(before, rows(db)), duplicates(db)
    result.check(len(rows(db)) == len(before), "rows changed")
    message = next((ln for ln in out.splitlines() if ln.startswith("error:")), out.strip())
    result.notes.append(message.replace(str(db), db.name)[:90])
    return out


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


def _integrity(db: Path) -> str:
    with read_db(db) as c:
        return str(c.execute("PRAGMA integrity_check").fetchone()[0])


def _stopped_then_resumed(lab: Lab, db: Path, result: ScenarioResult, proc: subprocess.Popen[
        bytes], out: str, before: dict[RowKey, str], what: str, limit: int) -> None:
    """Checks once a database fault stopped a run and the fault was lifted: a clear error
    naming the file (no traceback), every stored row kept, the run still resumable; then
    `--resume` completes it with no duplicate and no gap."""
    run_id, stopped_status = _run(db)
    stopped = rows(db)
    result.check(proc.returncode not in (0, None), f"the runner did not stop (exit "
                 f"{proc.returncode}): {_tail(out)}")
    result.check(str(db) in out, f"the error does not name {db}: {_tail(out)}")
    result.check(what in out, f"the error does not say {what!r}: {_tail(out)}")
    result.check(f"--resume {run_id}" in out, f"the error does not say how to resume: {_tail(out)}")
    result.check("Traceback" not in out, f"a traceback instead of a clear error: {_tail(out)}")
    result.check(stopped_status in ("running", "failed"),
                 f"the stopped run says {stopped_status}, not resumable")
    result.check(_integrity(db) == "ok", "integrity_check failed after the fault")
    result.check(len(stopped) < 2 * limit, "the run finished despite the fault")
    message = next((ln for ln in out.splitlines() if ln.startswith("error:")), "")
    result.notes.append(message.replace(str(db), db.name)[:90])
    after, latest = _resume_complete(lab, db, run_id, result, limit)
    result.lost = _lost(before, after) + _lost(stopped, after)
    result.duplicates = duplicates(db)
    result.check(_integrity(db) == "ok", "integrity_check failed after --resume")
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
    proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
    wait_rows(db, 2, proc)
    with exclusive_lock(db, wait_s=30):
        before = rows(db)  # WAL: readable under another's write lock; nothing can be added
        out = _finish(proc)
        result.check(rows(db) == before, "rows changed while the database was locked")
    _stopped_then_resumed(lab, db, result, proc, out, before, "database is locked", limit)
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
            proc = lab.spawn_runner(lab.run_args(db, limit=limit, timeout_s=60))
            wait_rows(db, 2, proc)
            filler = fill(mount)
            try:
                before = rows(db)  # the runner keeps the shared-memory file: reading works
                out = _finish(proc)
            finally:
                filler.unlink(missing_ok=True)
            _stopped_then_resumed(lab, db, result, proc, out, before,
                                  "database or disk is full", limit)
    except FaultUnavailable as exc:
        result.skipped = str(exc)
    shutil.rmtree(mount, ignore_errors=True)
    return result


#: A tiny valid eval set: every fuzzed folder is this with one thing broken.
_PASSAGES: list[dict[str, object]] = [
    {"id": "p1", "title": "Leave", "text": "Full-time staff get 27 days of leave."},
    {"id": "p2", "title": "VPN", "text": "The VPN is called Keelhaul."},
]
_QUESTIONS: list[dict[str, object]] = [
    {"id": "q1", "question": "How many days of leave?", "answers": ["27 days"],
     "gold_doc_ids": ["p1"], "answerable": True, "lang": "en"},
    {"id": "q2", "question": "What is the VPN called?", "answers": ["Keelhaul"],
     "gold_doc_ids": ["p2"], "answerable": True, "lang": "en"},
]


@dataclass
class BadInput:
    """One hostile input, the CLI command that meets it, and what its error must name."""

    name: str
    fault: str
    argv: list[str]
    #: Substrings the error must hold: the file, and its line or field where there is one.
    expect: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: Files a shell interpreting the input would create: they must not exist after.
    markers: list[Path] = field(default_factory=list)


def _line(record: Mapping[str, object]) -> bytes:
    return json.dumps(record).encode()


def _evalset(folder: Path, corpus: list[bytes] | None = None,
             questions: list[bytes] | None = None) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    files = (folder / "corpus.jsonl", folder / "questions.jsonl")
    for path, lines, base in zip(files, (corpus, questions), (_PASSAGES, _QUESTIONS),
                                 strict=True):
        chosen = [_line(r) for r in base] if lines is None else lines
        path.write_bytes(b"".join(x + b"\n" for x in chosen))
    return files


def _recipe(lab: Lab, folder: Path, name: str, **changes: object) -> Path:
    """A copy of side A's recipe called `name` with top-level `changes`, alone with a copy
    of side B's in its own stacks folder (a broken recipe must not break the lab's)."""
    folder.mkdir(parents=True)
    shutil.copy(lab.stacks_dir / "side-b.yaml", folder / "side-b.yaml")
    data = json.loads((lab.stacks_dir / "side-a.yaml").read_text())
    data.update(name=name, **changes)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data))  # JSON is valid YAML
    return path


def _bad_inputs(lab: Lab, root: Path, db: Path) -> list[BadInput]:
    """Every hostile input, written under `root`; the runs would store into `db`."""
    def run(evalset: Path | str, stacks: str = "side-a,side-b") -> list[str]:
        return ["run", "--evalset", str(evalset), "--stacks", stacks, "--limit", "2",
                "--warmup", "0", "--no-report", "--db", str(db)]

    cases: list[BadInput] = []
    good_c, good_q = _line(_PASSAGES[0]), _line(_QUESTIONS[0])
    c, q = _evalset(root / "malformed", questions=[good_q, b'{"id": "q2", "question": "x?"'])
    cases.append(BadInput("f1. eval set: malformed JSON", "questions.jsonl line 2 cut short",
                          run(c.parent), [f"{q}:2", "malformed JSON"]))
    c, q = _evalset(root / "types", questions=[
        _line({**_QUESTIONS[0], "answers": "27 days", "answerable": "yes"})])
    cases.append(BadInput("f2. eval set: wrong types", 'answers: "27 days", answerable: "yes"',
                          run(c.parent), [f"{q}:1: answers", f"{q}:1: answerable"]))
    c, q = _evalset(root / "utf8", corpus=[good_c, b'{"id": "p2", "text": "caf\xe9 \xff\xfe"}'])
    cases.append(BadInput("f3. eval set: invalid UTF-8", "corpus.jsonl line 2: bytes ff fe",
                          run(c.parent), [f"{c}:2", "invalid UTF-8"]))
    huge = _line({"id": "p3", "text": "x" * (4 << 20)})
    c, q = _evalset(root / "huge", corpus=[good_c, _line(_PASSAGES[1]), huge])
    cases.append(BadInput("f4. eval set: huge line", "corpus.jsonl line 3 is 4 MiB",
                          run(c.parent), [f"{c}:3", "line longer than"]))
    c, q = _evalset(root / "dupes", questions=[good_q, _line({**_QUESTIONS[1], "id": "q1"})])
    cases.append(BadInput("f5. eval set: duplicate ids", "questions q1 twice",
                          run(c.parent), [f"{q}:2: id", "duplicate id"]))
    c, q = _evalset(root / "gold", questions=[_line({**_QUESTIONS[0], "gold_doc_ids": ["p9"]})])
    cases.append(BadInput("f6. eval set: unknown gold id", "gold_doc_ids: [p9], no such passage",
                          run(c.parent), [f"{q}:1: gold_doc_ids", "'p9'"]))
    _evalset(root / "outside")
    c, q = _evalset(root / "sets" / "traversal")
    c.unlink()
    c.symlink_to(Path("..") / ".." / "outside" / "corpus.jsonl")
    cases.append(BadInput("f7. eval set: ../ traversal", "corpus.jsonl -> ../../outside/...",
                          run(c.parent), [str(c), "outside the eval set folder"]))
    secret = root / "secret.jsonl"
    secret.write_bytes(_line({"id": "s1", "question": "the admin password?",
                              "answerable": True}) + b"\n")
    c, q = _evalset(root / "absolute")
    q.unlink()
    q.symlink_to(secret.resolve())
    cases.append(BadInput("f8. eval set: absolute link", f"questions.jsonl -> {secret.name} "
                          "(absolute path)", run(c.parent), [str(q), "outside the eval set"]))

    def stacks_env(folder: Path) -> dict[str, str]:
        return {"WORKBENCH_STACKS_DIR": str(folder),
                "WORKBENCH_STATE_DIR": str(folder / "state")}

    folder = root / "stacks-unknown-key"
    recipe = _recipe(lab, folder, "typo", enigne_args=["--verbose"])
    cases.append(BadInput("f9. recipe: unknown key", "enigne_args (a typo of engine_args)",
                          run("demo-en", "typo,side-b"),
                          [str(recipe), "field enigne_args: unknown key"], stacks_env(folder)))
    folder = root / "stacks-bad-port"
    ports = json.loads((lab.stacks_dir / "side-a.yaml").read_text())["ports"]
    recipe = _recipe(lab, folder, "lowport", ports={**ports, "rag": 80})
    cases.append(BadInput("f10. recipe: bad port", "ports.rag: 80 (below 1024)",
                          run("demo-en", "lowport,side-b"), [str(recipe), "field ports.rag"],
                          stacks_env(folder)))
    folder = root / "stacks-model-name"
    marker = root / "pwned-by-model-name"
    model = json.loads((lab.stacks_dir / "side-a.yaml").read_text())["model"]
    recipe = _recipe(lab, folder, "shellname",
                     model={**model, "name": f"smol; touch {marker} #"})
    cases.append(BadInput("f11. recipe: shell in model name", "model.name: 'smol; touch ... #'",
                          run("demo-en", "shellname,side-b"),
                          [str(recipe), "field model.name"], stacks_env(folder), [marker]))
    folder = root / "stacks-model-path"
    marker = root / "pwned-by-model-path"
    gguf = f"{root}/m$(touch {marker});`touch {marker}`|touch {marker}.gguf"
    recipe = _recipe(lab, folder, "shellpath", model={**model, "gguf": gguf})
    spare = json.loads((folder / "side-b.yaml").read_text())
    spare.update(name="spare")
    (folder / "spare.yaml").write_text(json.dumps(spare))
    up = ["up", "--a", "shellpath", "--b", "spare", "--a-port", str(free_port()),
          "--b-port", str(free_port()), "--no-rag"]
    cases.append(BadInput("f12. recipe: shell in model path",
                          "model.gguf: 'm$(touch ..);`touch ..`|touch ...', then `workbench up`",
                          up, [str(recipe), "field model.gguf", gguf, "does not exist"],
                          stacks_env(folder), [marker]))
    return cases


def bad_input(lab: Lab) -> list[ScenarioResult]:
    """(f) hostile eval sets and recipes through the real CLI: each is refused with an
    error naming the file (and its line or field), no traceback, nothing a shell would
    run is run, and a database with a stored run is left exactly as it was."""
    root = lab.root / "bad-input"
    db = lab.root / "f.db"
    _seed(db)
    with read_db(db) as c:
        runs_before = c.execute("SELECT id, status FROM runs").fetchall()
    results: list[ScenarioResult] = []
    for case in _bad_inputs(lab, root, db):
        result = ScenarioResult(case.name, case.fault)

        def attempt(case: BadInput = case) -> subprocess.CompletedProcess[str]:
            return lab.workbench(*case.argv, env=case.env, timeout_s=120)

        out = _refusal(db, result, attempt, names_db=False)
        for want in case.expect:
            result.check(want in out, f"the error does not hold {want!r}: {_tail(out, 300)}")
        for marker in case.markers:
            result.check(not marker.exists(), f"a shell ran: {marker} exists")
        with read_db(db) as c:
            result.check(c.execute("SELECT id, status FROM runs").fetchall() == runs_before,
                         "the runs table changed (a run was created or updated)")
        result.completed = result.completed and result.failure is None
        detail = next((ln.strip() for ln in out.splitlines() if any(
            w in ln for w in case.expect[1:] or case.expect)), "")
        result.notes = [detail.replace(str(root) + "/", "")[:90]]
        results.append(result)
    return results


#: Every scenario, in the order `python -m workbench.chaos` runs them.
SCENARIOS: list[Callable[[Lab], ScenarioResult | list[ScenarioResult]]] = [
    engine_killed, engine_frozen, runner_killed, rag_restarted, database_faults,
    database_locked_mid_run, disk_full_mid_run, bad_input,
]
