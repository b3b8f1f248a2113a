"""A run's stored progress per stack: answered of planned, failures, the latest error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.test_db import new_run, record
from workbench.store import Store
from workbench.store.progress import run_state


def test_progress_per_stack_while_running(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)  # two questions, stacks alpha (baseline) and beta
    empty = run_state(store, run_id)
    assert [(s.stack, s.answered, s.planned, s.errors) for s in empty.stacks] == \
        [("alpha", 0, 2, 0), ("beta", 0, 2, 0)]
    assert empty.status == "running" and empty.last_answer_utc is None
    store.add_response(record(run_id, "q1", "A"))
    failed = record(run_id, "q1", "B", status="error").model_copy(
        update={"error": "engine timeout"})
    store.add_response(failed)
    store.add_response(record(run_id, "q2", "B", status="timeout").model_copy(
        update={"error": "HTTP 500"}))
    state = run_state(store, run_id)
    assert state.stacks[1].error_kinds == {"error": 1, "timeout": 1}
    alpha, beta = state.stacks
    assert (alpha.baseline, alpha.answered, alpha.errors, alpha.last_error) == \
        (True, 1, 0, None)
    assert (beta.answered, beta.errors, beta.last_error) == (2, 2, "HTTP 500")
    assert beta.share == pytest.approx(1.0)
    assert (state.answered, state.planned, state.errors) == (3, 4, 2)
    # A retry that succeeds replaces the failure (latest attempt).
    store.add_response(record(run_id, "q2", "B", attempt=2))
    beta = run_state(store, run_id).stacks[1]
    assert (beta.answered, beta.errors, beta.last_error) == (2, 1, "engine timeout")
    assert beta.error_kinds == {"error": 1}
    assert run_state(store, run_id).last_answer_utc == "2026-11-21T00:00:00Z"


def test_unknown_run_names_the_id(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="NOPE"):
        run_state(Store(tmp_path / "wb.db"), "NOPE")
