"""A results file as the workbench wrote it before N-stack runs (migrations 001-003: sides
A and B, latency columns), filled with a synthetic two-stack run, for the views' tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from workbench.store.migrations import MIGRATIONS
from workbench.store.synthetic import STACKS, synthetic_run

OLD_RUN_ID = "01H00000000000000000OLD2ST"  # sorts before every ULID made today


def store_old_two_stack_run(path: Path, n_questions: int = 20, seed: int = 11) -> str:
    """Write a completed two-stack run with the pre-004 schema's own SQL; returns its id.

    Opening the file with `Store` applies migration 004, which maps side A to the
    baseline (position 0) and B to position 1, by their stack names."""
    questions, records = synthetic_run(n_questions, seed)
    side_of = {name: side for side, name in STACKS.items()}
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_utc TEXT)")
    for name, sql in MIGRATIONS[:3]:
        c.executescript(sql)
        c.execute("INSERT INTO migrations VALUES (?, '2025-06-01T00:00:00Z')", (name,))
    manifest = {"evalset": {"name": "old-demo", "digest": f"seed-{seed}"},
                "stacks": {"A": {"name": STACKS["A"]}, "B": {"name": STACKS["B"]}}}
    c.execute("INSERT INTO runs VALUES (?, '2025-06-01T00:00:00Z', '2025-06-01T00:10:00Z',"
              " 'completed', 'old-demo', ?, 'interleaved', ?, ?, NULL, ?)",
              (OLD_RUN_ID, f"seed-{seed}", STACKS["A"], STACKS["B"], json.dumps(manifest)))
    for side in ("A", "B"):
        c.execute("INSERT INTO run_stacks VALUES (?, ?, ?, ?)",
                  (OLD_RUN_ID, side, STACKS[side], json.dumps({"name": STACKS[side]})))
    c.executemany("INSERT INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (OLD_RUN_ID, i, q.id, q.question, json.dumps(q.answers), json.dumps(q.gold_doc_ids),
         int(q.answerable), q.lang) for i, q in enumerate(questions)])
    for rec in records:
        side = side_of[rec.stack]
        data = rec.model_dump()
        data.update(run_id=OLD_RUN_ID, side=side)  # the old record shape carried its side
        ttft = rec.ttft_s
        c.execute("INSERT INTO responses VALUES (?,?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            OLD_RUN_ID, rec.question_id, side, rec.stack, rec.status, rec.error,
            rec.http_status, rec.answer, None if ttft is None else ttft * 1000,
            rec.e2e_s * 1000, rec.completion_tokens, rec.prompt_tokens, rec.model,
            rec.engine, rec.timing.started_at_utc, json.dumps(data)))
        c.executemany("INSERT INTO retrieved VALUES (?, ?, ?, 1, ?, ?, ?, ?)", [
            (OLD_RUN_ID, rec.question_id, side, s.rank, s.doc_id, s.chunk_id, s.score)
            for s in rec.sources])
    c.commit()
    c.close()
    return OLD_RUN_ID
