"""What the screens read from the store, each call on a connection of the caller's thread.

SQLite connections are not shared across threads here: a thread worker opens its own
`Store` (cheap, WAL) so scoring a large run never contends with the event loop's writes.
The screens never speak SQL: they ask `Store`'s methods.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.store.db import Store
from workbench.store.progress import run_state

if TYPE_CHECKING:
    from workbench.report.choice import Choice
    from workbench.report.models import ScoreCard
    from workbench.report.votes import VoteSummary
    from workbench.store.progress import RunState


@dataclass(frozen=True)
class LoadedCard:
    """A scorecard, the recommendation it leads to (None while the run is in progress), the
    arena votes about its stacks, the run's stored progress, and how it was obtained."""

    card: ScoreCard
    choice: Choice | None
    seconds: float
    cached: bool
    votes: VoteSummary
    state: RunState


def load_card(db_path: Path, run_id: str, *, semantic: bool) -> LoadedCard:
    """The run's decision (`report.decision.decide_run`: the card with its load pass, the
    choice under the constraints stored with the run, the votes) and its progress."""
    # Imported here: `workbench.report` loads scipy (seconds), which must happen in the
    # worker thread that calls this, never while the UI starts.
    from workbench.report.decision import decide_run

    start = time.perf_counter()
    with Store(db_path) as store:
        decision = decide_run(store, run_id, semantic=semantic)
        state = run_state(store, run_id)
    assert decision.votes is not None  # asked for
    return LoadedCard(decision.card, decision.choice, time.perf_counter() - start,
                      decision.cached, decision.votes, state)


def load_run_state(db_path: Path, run_id: str) -> RunState:
    """The run's stored progress (cheap: one grouped query), for polling a live run."""
    # Read-only: a poll never takes the write lock the runner (maybe another process)
    # needs for each answer.
    with Store(db_path, readonly=True) as store:
        return run_state(store, run_id)


def state_tags(state: RunState) -> dict[str, str]:
    """`stack_tags` for a run that has no card yet: A/B for two stacks, else 1..N."""
    names = [s.stack for s in state.stacks]
    if len(names) == 2:
        return dict(zip(names, "AB", strict=True))
    return {s: str(i) for i, s in enumerate(names, start=1)}


def stack_tags(card: ScoreCard) -> dict[str, str]:
    """Stack -> the short tag narrow columns use: A/B in a two-stack run, else 1..N in
    run order (the leaderboard shows each tag beside its stack's name)."""
    aliases = {s: card.summaries[s].alias for s in card.stacks if s in card.summaries}
    if all(aliases.values()):
        return aliases
    return {s: str(i) for i, s in enumerate(card.stacks, start=1)}


def e2e_by_stack(card: ScoreCard) -> dict[str, list[float]]:
    """Stack -> E2E seconds of its successful responses (what the histograms draw)."""
    out: dict[str, list[float]] = {s: [] for s in card.stacks}
    for r in card.rows:
        for s in card.stacks:
            e2e = r.e2e.get(s)
            if r.status.get(s) == "ok" and e2e is not None:
                out[s].append(e2e)
    return out
