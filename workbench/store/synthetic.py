"""A stored synthetic A/B run, for the views' benchmarks and tests (no stack is asked).

The questions and responses come from `workbench.bench.scoring.synthetic_run` (realistic
answers, timestamps and errors); this puts them in a store exactly as the runner would.
"""

from __future__ import annotations

from typing import Any

from workbench.runner.records import Side
from workbench.store.db import Store


def store_synthetic_run(store: Store, n_questions: int = 5000, seed: int = 7) -> str:
    """Create a completed run of `n_questions` x 2 sides in `store`; returns its id."""
    from workbench.bench.scoring import synthetic_run

    questions, records = synthetic_run(n_questions, seed)
    recipes: dict[Side, dict[str, Any]] = {
        "A": {"name": "llamacpp-cpu", "engine": "llamacpp"},
        "B": {"name": "vllm-cpu", "engine": "vllm"},
    }
    manifest = {"evalset": {"name": "synthetic", "digest": f"seed-{seed}", "source": ""},
                "schedule": "interleaved", "concurrency": 1, "timeout_s": 120.0,
                "warmup_requests": 0, "limit": None, "stacks": recipes, "synthetic": True}
    run_id = store.create_run(evalset="synthetic", evalset_digest=f"seed-{seed}",
                              schedule="interleaved", stacks=recipes, questions=questions,
                              manifest=manifest, limit=None)
    # One transaction: 10k rows in about a second.
    store.add_responses([rec.model_copy(update={"run_id": run_id}) for rec in records])
    store.set_status(run_id, "completed")
    return run_id
