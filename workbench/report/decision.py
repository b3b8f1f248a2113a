"""A stored run's decision, assembled once for every view: its scorecard (with the load
pass on it), the constraints stored with it, the choice they lead to (only for a run that
has completed: no verdict mid-run), and the arena votes about its stacks.

The CLI's `report` and `choose`, the web's Results tab and the TUI's Results screen all
call `decide_run`, so they cannot differ in which card, constraints or votes they show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.records.manifest import RunManifest
from workbench.report.capacity_choice import with_load
from workbench.report.choice import Choice, recommend, tie_margin_of
from workbench.report.constraints import Constraint, constraints_from_manifest
from workbench.report.models import ScoreCard
from workbench.report.provisional import is_complete, without_outcomes
from workbench.report.stored import cached_scorecard, scorecard_for_run
from workbench.report.votes import VoteSummary, votes_for_run
from workbench.scoring.judge import Judge
from workbench.store.db import Store


@dataclass(frozen=True)
class RunDecision:
    """What every view of a stored run shows."""

    run_id: str
    status: str
    """The run's stored status (`completed`, `running`, ...)."""
    complete: bool
    card: ScoreCard
    constraints: list[Constraint]
    choice: Choice | None
    """None while the run has not completed (looking at a run in progress and stopping at
    a difference inflates false winners)."""
    votes: VoteSummary | None
    """None when the caller did not ask for them."""
    cached: bool
    """The card came from the store's cache (not rescored)."""
    manifest: RunManifest


def decide_run(store: Store, run_id: str, *, semantic: bool = True,
               constraints: Sequence[Constraint] | None = None, votes: bool = True,
               pooled_votes: bool = False, judge: Judge | None = None, pairwise: bool = False,
               persist_scores: bool = False, use_cache: bool = True,
               tie_margin: float | None = None) -> RunDecision:
    """Score (or read the cached card of) a stored run and decide it.

    `constraints`: those to choose under (default: the ones stored with the run).
    `votes`: summarize the arena's votes (`pooled_votes`: every vote between its stacks).
    `judge`, `pairwise`, `persist_scores`, `use_cache`: as `scorecard_for_run`.
    `tie_margin`: the choice's (default: the one recorded with the run, else the usual)."""
    run = store.get_run(run_id)
    card = None
    if use_cache and judge is None and not persist_scores:
        # Read here rather than inside scorecard_for_run, to tell the caller it was cached.
        card = cached_scorecard(store, run_id, semantic=semantic)
    cached = card is not None
    if card is not None:
        card = with_load(store, run_id, card)
    else:
        card = scorecard_for_run(store, run_id, semantic=semantic, use_cache=use_cache,
                                 persist_scores=persist_scores, judge=judge,
                                 pairwise=pairwise)
        run = store.get_run(run_id)  # a judge records itself in the manifest
    manifest = store.run_manifest(run_id)
    limits = list(constraints) if constraints is not None \
        else constraints_from_manifest(manifest)
    complete = is_complete(run["status"])
    return RunDecision(
        run_id=run_id, status=run["status"], complete=complete,
        # Mid-run, not even a question says who won it or was faster (report.provisional).
        card=card if complete else without_outcomes(card),
        constraints=limits, choice=recommend(
            card, limits, tie_margin=tie_margin_of(manifest) if tie_margin is None
            else tie_margin) if complete else None,
        votes=votes_for_run(store, run_id, card, pooled=pooled_votes) if votes else None,
        cached=cached, manifest=manifest)


__all__ = ["RunDecision", "decide_run"]
