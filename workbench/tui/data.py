"""What the screens read from the store, each call on a connection of the caller's thread.

SQLite connections are not shared across threads here: a thread worker opens its own
`Store` (cheap, WAL) so scoring a large run never contends with the event loop's writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.runner.records import ResponseRecord
from workbench.store.db import Store

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard


@dataclass(frozen=True)
class LoadedCard:
    """A scorecard and how it was obtained."""

    card: ScoreCard
    seconds: float
    cached: bool


def load_card(db_path: Path, run_id: str, *, semantic: bool) -> LoadedCard:
    """The run's scorecard through `scorecard_for_run` (the report's code path)."""
    # Imported here: `workbench.report` loads scipy (seconds), which must happen in the
    # worker thread that calls this, never while the UI starts.
    from workbench.report.stored import cached_scorecard, scorecard_for_run

    start = time.perf_counter()
    with Store(db_path) as store:
        # Reading the cache first (rather than letting scorecard_for_run do it) parses a
        # large card once and still tells the caller whether it was cached.
        card = cached_scorecard(store, run_id, semantic=semantic)
        cached = card is not None
        if card is None:
            card = scorecard_for_run(store, run_id, semantic=semantic, use_cache=False)
    return LoadedCard(card, time.perf_counter() - start, cached)


def latest_records(store: Store, run_id: str, question_id: str) -> dict[str, ResponseRecord]:
    """Side -> the latest attempt's stored response to one question."""
    rows = store.conn.execute(
        "SELECT side, record_json FROM responses WHERE run_id = ? AND question_id = ?"
        " ORDER BY attempt",
        (run_id, question_id),
    ).fetchall()
    # Later attempts overwrite earlier ones: the latest is what the scorecard scored.
    return {str(r[0]): ResponseRecord.model_validate_json(r[1]) for r in rows}


def gold_doc_ids(store: Store, run_id: str, question_id: str) -> list[str]:
    """The gold passage ids of one question of a run."""
    row = store.conn.execute(
        "SELECT gold_doc_ids_json FROM questions WHERE run_id = ? AND id = ?",
        (run_id, question_id),
    ).fetchone()
    return [] if row is None else [str(x) for x in json.loads(row[0])]


def e2e_by_side(card: ScoreCard) -> dict[str, list[float]]:
    """Side -> E2E seconds of its successful responses (what the histogram draws)."""
    out: dict[str, list[float]] = {"A": [], "B": []}
    for r in card.rows:
        if r.status_a == "ok" and r.e2e_a is not None:
            out["A"].append(r.e2e_a)
        if r.status_b == "ok" and r.e2e_b is not None:
            out["B"].append(r.e2e_b)
    return out
