"""Store an imported run (`workbench runs import`) in one transaction: the run, its stacks,
its questions, every response and the votes beside it are written together or not at all,
so a failure halfway (a full disk, a locked file) leaves the database as it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ulid import ULID

from workbench.records.evalset import Question
from workbench.records.manifest import RunManifest
from workbench.records.responses import ResponseRecord
from workbench.store.db import Store, utc_now

#: The run statuses a stored run may have once imported (an import never stays "running").
FINISHED = ("completed", "cancelled", "failed")


@dataclass(frozen=True)
class ImportedVote:
    """One arena vote read from an export's votes file."""

    id: str
    question: str
    stack_a: str
    stack_b: str
    vote: str
    blind: bool
    detail: dict[str, Any]
    datetime_utc: str
    #: Whether the vote was stored with the exported run (it then belongs to the new run).
    of_run: bool


@dataclass
class ImportedRun:
    """Everything a new run is made of, already validated (`runner.importer`)."""

    evalset: str
    evalset_digest: str
    schedule: str
    stacks: list[dict[str, Any]]
    baseline: str
    questions: list[Question]
    manifest: RunManifest
    records: list[ResponseRecord]
    status: str = "completed"
    limit: int | None = None
    votes: list[ImportedVote] = field(default_factory=list)


def store_imported_run(store: Store, run: ImportedRun) -> str:
    """Write `run` as a new run of `store` in one transaction; returns its id. Votes whose
    id the store already holds are not stored twice."""
    if run.status not in FINISHED:
        raise ValueError(f"an imported run is {'/'.join(FINISHED)}, not {run.status!r}")
    run_id = str(ULID())
    with store._write() as c:  # one transaction: all or nothing
        store._insert_run(c, run_id, evalset=run.evalset, evalset_digest=run.evalset_digest,
                          schedule=run.schedule, stacks=run.stacks, questions=run.questions,
                          manifest=run.manifest, limit=run.limit, baseline=run.baseline)
        for rec in run.records:
            store._insert_response(c, rec.model_copy(update={"run_id": run_id}))
        c.executemany(
            "INSERT OR IGNORE INTO votes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(v.id, run_id if v.of_run else None, v.question, v.stack_a, v.stack_b, v.vote,
              int(v.blind), json.dumps(v.detail, ensure_ascii=False), v.datetime_utc)
             for v in run.votes],
        )
        c.execute("UPDATE runs SET status = ?, finished_utc = ? WHERE id = ?",
                  (run.status, utc_now(), run_id))
    return run_id
