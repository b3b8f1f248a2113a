"""The scorecard of a stored run: the one code path the CLI, web UI and TUI use for numbers."""

from __future__ import annotations

from typing import Any

from workbench.store.db import Store


def scorecard_for_run(store: Store, run_id: str, *, semantic: bool = True,
                      persist_scores: bool = False) -> Any:
    """Score a stored run from the store alone (no stack is asked again)."""
    from workbench.report.scorecard import build_scorecard

    run = store.get_run(run_id)
    card = build_scorecard(
        store.questions(run_id), store.responses(run_id), manifest=run["manifest"],
        semantic=semantic,
    )
    return card
