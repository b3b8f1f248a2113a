"""Stored runs in progress and arena votes for the TUI tests (no stack is asked)."""

from __future__ import annotations

from tests.fakes.votes import simulate_votes
from workbench.store.db import Store
from workbench.store.synthetic import STACKS, synthetic_run

#: Votes that favour the third stack, as a Qwen-vs-SmolLM2 arena would.
STRENGTHS = {STACKS["A"]: 950.0, STACKS["B"]: 960.0, STACKS["C"]: 1150.0}


def add_votes(store: Store, run_id: str, n: int = 60) -> None:
    """`n` seeded votes between the run's three stacks, on the run's own questions."""
    texts = [q.question for q in store.questions(run_id)]
    simulate_votes(store, STRENGTHS, n, seed=2, questions=texts)


def store_running_run(store: Store, answered: int, n_questions: int = 40) -> tuple[str, int]:
    """A three-stack run with its first `answered` responses stored and status running;
    returns (run id, how many responses the whole run has)."""
    questions, records = synthetic_run(n_questions, 7, 3)
    run_id = store.create_run(evalset="synthetic", evalset_digest="seed-7",
                              schedule="interleaved",
                              stacks=[{"name": STACKS[k]} for k in "ABC"],
                              questions=questions, manifest={}, limit=None)
    store.add_responses([r.model_copy(update={"run_id": run_id}) for r in records[:answered]])
    return run_id, len(records)


def finish_run(store: Store, run_id: str, start: int) -> None:
    """Store the rest of the responses of `store_running_run`'s run and complete it."""
    _, records = synthetic_run(len(store.questions(run_id)), 7, 3)
    store.add_responses([r.model_copy(update={"run_id": run_id}) for r in records[start:]])
    store.set_status(run_id, "completed")
