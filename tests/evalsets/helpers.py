"""Small eval sets written to disk in each supported format, for the eval set tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PASSAGES: list[dict[str, Any]] = [
    {"id": "p1", "title": "Leave", "text": "Full-time staff get 27 days of paid leave."},
    {"id": "p2", "title": "VPN", "text": "The VPN is called Keelhaul; set MTU 1380 if it drops."},
    {"id": "p3", "title": "", "text": "The printer on the second floor is named Gannet."},
]
QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "q1",
        "question": "How many days of leave?",
        "answers": ["27 days", "27"],
        "gold_doc_ids": ["p1"],
        "answerable": True,
        "lang": "en",
    },
    {
        "id": "q2",
        "question": "What is the VPN called?",
        "answers": ["Keelhaul"],
        "gold_doc_ids": ["p2"],
        "answerable": True,
        "lang": "en",
        "meta": {"kind": "name"},
    },
    {
        "id": "q3",
        "question": "Who leads the People team?",
        "answers": [],
        "gold_doc_ids": [],
        "answerable": False,
        "lang": "en",
        "source_doc_id": "p1",
        "meta": {"plausible_answers": ["Marta"], "kind": None},
    },
    {
        "id": "q4",
        "question": "What is the printer called?",
        "answers": ["Gannet"],
        "gold_doc_ids": ["p3"],
        "answerable": True,
    },
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as JSON Lines."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def write_lines(path: Path, lines: Sequence[str | bytes]) -> Path:
    """Raw lines (str encoded as UTF-8, bytes as they are), each ending in a newline."""
    data = b"".join((x.encode() if isinstance(x, str) else x) + b"\n" for x in lines)
    path.write_bytes(data)
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as Parquet; a column some rows lack is null there, as any writer would do."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in rows]), path)
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as CSV: list and object fields as JSON strings, booleans as true/false."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


WRITERS = {".jsonl": write_jsonl, ".parquet": write_parquet, ".csv": write_csv}


def write_set(
    folder: Path,
    suffix: str = ".jsonl",
    passages: list[dict[str, Any]] | None = None,
    questions: list[dict[str, Any]] | None = None,
) -> Path:
    """A folder eval set in one format (the sample set unless rows are given)."""
    folder.mkdir(parents=True, exist_ok=True)
    WRITERS[suffix](folder / f"corpus{suffix}", PASSAGES if passages is None else passages)
    WRITERS[suffix](folder / f"questions{suffix}", QUESTIONS if questions is None else questions)
    return folder
