"""What a faulted run left in the results file, and the checks every scenario makes of it.

Counting rules:
- results lost: responses stored before the fault that are missing (or changed) after;
- re-asked: questions a stack received beyond the responses stored for it (each stored
  response, answer or error, is one question received; the store's primary key cannot
  hold a duplicate row, so a question asked twice shows only here). A run the fault
  stopped (the runner killed, the database refusing a write) leaves the questions then in
  flight received but unstored; `--resume` must ask those again and nothing else, so
  after it each stack's surplus must still equal what was in flight when it stopped.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbench.chaos.lab import LAB_STACKS, Lab
from workbench.chaos.report import ScenarioResult
from workbench.store.db import Store
from workbench.store.inspect import (
    Latest,
    RowKey,
    last_run,
    latest_outcomes,
    n_questions,
    rows,
)
from workbench.store.synthetic import store_synthetic_run

#: Seconds the runner may take to finish a small run after a fault.
FINISH_TIMEOUT_S = 300


def finish(proc: subprocess.Popen[bytes]) -> str:
    """Wait for the runner to end; its output."""
    out, _ = proc.communicate(timeout=FINISH_TIMEOUT_S)
    return out.decode(errors="replace") if out else ""


def count_lost(before: dict[RowKey, str], after: dict[RowKey, str]) -> int:
    """Rows of `before` missing or changed in `after`."""
    return sum(1 for k, v in before.items() if after.get(k) != v)


def tail(text: str, n: int = 400) -> str:
    """The end of a command's output, for a failure message."""
    return text.strip()[-n:]


@dataclass
class Asks:
    """The questions the lab's stacks received while one scenario wrote into `db`, set
    against the responses it stored there (`start` when the scenario begins)."""

    lab: Lab
    db: Path
    received0: dict[str, int]
    stored0: frozenset[RowKey]
    #: Per stack, questions received but unstored when the fault stopped the runner.
    in_flight: dict[str, int] = field(default_factory=dict)

    @classmethod
    def start(cls, lab: Lab, db: Path) -> Asks:
        """Counts from now on."""
        return cls(lab, db, lab.asked(), frozenset(rows(db)))

    def surplus(self) -> dict[str, int]:
        """Per stack: questions received minus responses stored, since `start`."""
        now = self.lab.asked()
        stored = Counter(k[2] for k in rows(self.db) if k not in self.stored0)
        names = set(stored) | {s for s in now if now[s] != self.received0.get(s, 0)}
        return {s: now.get(s, 0) - self.received0.get(s, 0) - stored[s] for s in names}

    def stopped(self, result: ScenarioResult, aliases: tuple[str, ...] = ("A", "B")) -> None:
        """The runner stopped mid-run: wait until what it sent has arrived, and note
        what is in flight (received, unstored): at most one per stack (the lab's runs ask
        each stack one question at a time)."""
        self.lab.settle_asks(aliases)
        self.in_flight = {s: n for s, n in self.surplus().items() if n}
        result.check(all(0 < n <= 1 for n in self.in_flight.values()),
                     f"questions received but unstored at the stop: {self.in_flight}")
        if self.in_flight:
            result.notes.append(f"in flight at the stop: {sum(self.in_flight.values())}")

    def check(self, result: ScenarioResult, unreceived_ok: int = 0) -> None:
        """Set `result.reasked`: questions received beyond one per stored response (and
        those in flight at a stop). A stored response no stack received is a failure,
        but for `unreceived_ok` of them (errors of requests a killed service never read)."""
        surplus = self.surplus()
        over = {s: n - self.in_flight.get(s, 0) for s, n in surplus.items()}
        result.reasked = sum(n for n in over.values() if n > 0)
        result.check(result.reasked == 0, f"questions asked again: {over}")
        unreceived = -sum(n for n in over.values() if n < 0)
        result.check(unreceived <= unreceived_ok,
                     f"responses stored that no stack received: {over}")


def retry_and_check(lab: Lab, db: Path, run_id: str, result: ScenarioResult) -> None:
    """`--retry-failed` the run; afterwards every pair's latest attempt must be ok."""
    before = rows(db)
    done = lab.workbench("run", "--retry-failed", run_id, "--no-report", "--db", str(db))
    result.check(done.returncode == 0, f"--retry-failed exited {done.returncode}: "
                 f"{tail(done.stdout + done.stderr)}")
    after = rows(db)
    result.lost += count_lost(before, after)
    latest = latest_outcomes(db, run_id)
    want = 2 * n_questions(db, run_id)
    ok = sum(1 for v in latest.values() if v.status == "ok")
    result.check(len(latest) == want, f"gap: {len(latest)} of {want} pairs stored")
    result.check(ok == want, f"after --retry-failed only {ok}/{want} latest attempts ok")
    result.notes.append(f"after --retry-failed {ok}/{want} latest attempts ok")


def settle(result: ScenarioResult, db: Path, proc: subprocess.Popen[bytes],
            before: dict[RowKey, str], out: str) -> tuple[str, dict[tuple[str, str], Latest]]:
    """Common checks once a faulted run ended: completed, nothing lost."""
    run_id, status = last_run(db)
    result.completed = proc.returncode == 0 and status == "completed"
    result.check(result.completed, f"run ended {status}, exit {proc.returncode}: {tail(out)}")
    result.lost = count_lost(before, rows(db))
    return run_id, latest_outcomes(db, run_id)


def b_failed_alone(result: ScenarioResult,
                   latest: dict[tuple[str, str], Latest]) -> list[Latest]:
    """Stack A must be untouched by a fault injected into stack B; returns B's failures."""
    a_bad = [k for k, v in latest.items() if k[0] == LAB_STACKS["A"] and v.status != "ok"]
    b_bad = [v for k, v in latest.items() if k[0] == LAB_STACKS["B"] and v.status != "ok"]
    result.errors_recorded = len(b_bad)
    result.check(not a_bad, f"stack A affected: {a_bad}")
    return b_bad


def resume_complete(lab: Lab, db: Path, run_id: str, result: ScenarioResult, limit: int
                     ) -> tuple[dict[RowKey, str], dict[tuple[str, str], Latest]]:
    """`--resume` the run: it must complete with every pair stored once, none re-asked.
    Returns the rows and the latest attempt of each pair."""
    done = lab.workbench("run", "--resume", run_id, "--no-report", "--db", str(db))
    _, status = last_run(db)
    result.completed = done.returncode == 0 and status == "completed"
    result.check(result.completed, f"--resume: run {status}, exit {done.returncode}: "
                 f"{tail(done.stdout + done.stderr)}")
    latest = latest_outcomes(db, run_id)
    result.check(len(latest) == 2 * limit, f"gap: {len(latest)} of {2 * limit} pairs stored")
    result.check(all(v.attempt == 1 for v in latest.values()), "a pair was asked twice")
    return rows(db), latest


def seed(db: Path) -> None:
    """A results file holding one stored synthetic run."""
    with Store(db) as store:
        store_synthetic_run(store, n_questions=5)


def expect_refusal(lab: Lab, db: Path, result: ScenarioResult, inject: Callable[[], object],
                   release: Callable[[], object] | None = None,
                   before: dict[RowKey, str] | None = None, *, names_db: bool = True) -> str:
    """Start a new run on a seeded `db` under a fault; expect a clear error naming the
    file (`names_db`: the database; else the caller checks which file), then (after
    `release`, if reading needs it) the stored rows intact and no stack asked anything.
    Returns the CLI's output."""
    result.refusal = True
    before = rows(db) if before is None else before
    received = lab.asked()
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
    result.check(named, f"the error does not name {db}: {tail(out)}")
    result.check(clean, f"a traceback instead of a clear error: {tail(out)}")
    result.lost = count_lost(before, rows(db))
    result.check(len(rows(db)) == len(before), "rows changed")
    asked = {s: n - received.get(s, 0) for s, n in lab.asked().items()
             if n != received.get(s, 0)}
    result.reasked = sum(asked.values())
    result.check(not asked, f"a refused run asked questions: {asked}")
    message = next((ln for ln in out.splitlines() if ln.startswith("error:")), out.strip())
    result.notes.append(message.replace(str(db), db.name)[:90])
    return out
