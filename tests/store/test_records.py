"""The in-memory latest-attempt rule agrees with the store's `latest_responses` view."""

from __future__ import annotations

from pathlib import Path

from tests.store.test_db import new_run, record
from workbench.records.responses import latest_attempts
from workbench.store import Store


def test_latest_attempts_matches_the_stores_view(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    rows = [record(run_id, "q1", "A", status="error"), record(run_id, "q1", "A", attempt=3),
            record(run_id, "q1", "A", status="timeout", attempt=2), record(run_id, "q2", "B"),
            record(run_id, "q1", "B", status="error")]
    for r in rows:
        store.add_response(r)
    mine = latest_attempts(rows)
    assert {k: r.attempt for k, r in mine.items()} == {
        (rows[0].stack, "q1"): 3, (rows[3].stack, "q2"): 1, (rows[4].stack, "q1"): 1}
    stored = {(r.stack, r.question_id): (r.attempt, r.status)
              for r in store.responses(run_id, latest_only=True)}
    assert stored == {k: (r.attempt, r.status) for k, r in mine.items()}
