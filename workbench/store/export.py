"""Export a run's responses, flattened one row per (question, stack), to JSONL, CSV or Parquet;
and the arena votes about its stacks beside them (`<name>.votes.<ext>`, one row per vote)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from workbench.store.db import Store
from workbench.store.votes import vote_rows, votes_of_run

FORMATS = ("jsonl", "csv", "parquet")


def response_rows(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Flat rows: question, gold, answer, status, timings (ms), tokens, retrieved ids."""
    qs = store.questions(run_id)
    questions = {q.id: q for q in qs}
    # Run order of questions and stacks, so `workbench runs import` rebuilds the same run
    # (the same bootstrap pairs, the same baseline); another tool's file may leave them out.
    q_pos = {q.id: i for i, q in enumerate(qs)}
    stacks = {e["name"]: e for e in store.run_stacks(run_id)}
    rows: list[dict[str, Any]] = []
    for rec in store.responses(run_id, latest_only=False):
        q = questions.get(rec.question_id)
        ttft = rec.ttft_s
        tpot = rec.tpot_s
        rows.append({
            "run_id": run_id,
            "question_id": rec.question_id,
            "stack": rec.stack,
            "attempt": rec.attempt,
            "status": rec.status,
            "error": rec.error,
            "question": q.question if q else None,
            "gold_answers": json.dumps(q.answers if q else [], ensure_ascii=False),
            "answerable": q.answerable if q else None,
            "lang": q.lang if q else None,
            "answer": rec.answer,
            "ttft_ms": None if ttft is None else ttft * 1000,
            "tpot_ms": None if tpot is None else tpot * 1000,
            "e2e_ms": rec.e2e_s * 1000,
            "completion_tokens": rec.completion_tokens,
            "prompt_tokens": rec.prompt_tokens,
            "retrieved_doc_ids": json.dumps([s.doc_id for s in rec.sources]),
            "gold_doc_ids": json.dumps(q.gold_doc_ids if q else []),
            "server_timings": json.dumps(rec.server_timings),
            "started_at_utc": rec.timing.started_at_utc,
            # Lossless extras (JSON text like the columns above): the raw timestamps, every
            # retrieved source, the engine's counters; what an import needs to score the same.
            "question_position": q_pos.get(rec.question_id),
            "stack_position": stacks[rec.stack]["position"] if rec.stack in stacks else None,
            "baseline": bool(stacks[rec.stack]["baseline"]) if rec.stack in stacks else None,
            "model": rec.model,
            "engine": rec.engine,
            "http_status": rec.http_status,
            "timing": rec.timing.model_dump_json(),
            "sources": json.dumps([s.model_dump() for s in rec.sources], ensure_ascii=False),
            "engine_counters": (rec.engine_counters.model_dump_json()
                                if rec.engine_counters is not None else None),
        })
    return rows


def export_run(store: Store, run_id: str, path: Path, fmt: str | None = None) -> int:
    """Write the rows to `path` in `fmt` (default: from the suffix); returns the row count."""
    return _write(response_rows(store, run_id), path, fmt)


def run_info_path(path: Path) -> Path:
    """Where the run's own facts go beside a run exported to `path`: `r.jsonl` ->
    `r.run.json` (manifest, stacks in run order with their recipes, the baseline)."""
    return path.with_name(f"{path.stem}.run.json")


def export_run_info(store: Store, run_id: str, path: Path) -> None:
    """Write the run's manifest, status, eval set and stacks (with recipes) as JSON."""
    run = store.get_run(run_id)
    info = {"run_id": run_id, "status": run["status"], "created_utc": run["created_utc"],
            "evalset": run["evalset"], "evalset_digest": run["evalset_digest"],
            "schedule": run["schedule"], "question_limit": run["question_limit"],
            "stacks": [{"name": e["name"], "baseline": e["baseline"], "recipe": e["recipe"]}
                       for e in store.run_stacks(run_id)],
            "manifest": run["manifest"]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def votes_path(path: Path) -> Path:
    """Where the votes go beside a run exported to `path`: `r.jsonl` -> `r.votes.jsonl`."""
    return path.with_name(f"{path.stem}.votes{path.suffix}")


def export_votes(store: Store, run_id: str, path: Path, fmt: str | None = None) -> int:
    """Write the arena votes about the run's stacks (`store.votes.votes_of_run`: stack names
    on both sides, the vote, the voted-for stack) to `path`; returns the vote count."""
    return _write(vote_rows(votes_of_run(store, run_id)), path, fmt)


def _write(rows: list[dict[str, Any]], path: Path, fmt: str | None) -> int:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"{path}: unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "jsonl":
        with tmp.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        with tmp.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["run_id"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        # why here: pyarrow is needed for Parquet only
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), tmp)
    # Written whole, then renamed: an interrupted export never leaves half a file.
    tmp.replace(path)
    return len(rows)
