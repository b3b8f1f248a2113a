"""The scorecard of a stored run: the one code path the CLI, web UI and TUI use for numbers.

Scoring reads the store alone (no stack is asked again). A computed card is cached in the
store, keyed by a fingerprint of the run's responses and the scoring version, so a view
opens a scored 5,000-question run without rescoring it; any new response invalidates it.
"""

from __future__ import annotations

import sqlite3

from workbench.report.models import ScoreCard
from workbench.scoring.judge import Judge
from workbench.store.db import Store, StoreError, utc_now

#: Bump when scoring changes meaning, so cached cards are recomputed.
SCORING_VERSION = "1"


def fingerprint(store: Store, run_id: str) -> str:
    """Changes whenever a response is added to the run (or the scoring version changes)."""
    n, last = store.conn.execute(
        "SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM responses WHERE run_id = ?", (run_id,)
    ).fetchone()
    return f"v{SCORING_VERSION}:{n}:{last}"


def cached_scorecard(store: Store, run_id: str, *, semantic: bool = True) -> ScoreCard | None:
    """The stored card when it is still valid, else None."""
    row = store.conn.execute(
        "SELECT fingerprint, card_json FROM scorecards WHERE run_id = ? AND semantic = ?",
        (run_id, int(semantic)),
    ).fetchone()
    if row is None or row[0] != fingerprint(store, run_id):
        return None
    return ScoreCard.model_validate_json(row[1])


def scorecard_for_run(store: Store, run_id: str, *, semantic: bool = True,
                      persist_scores: bool = False, use_cache: bool = True,
                      judge: Judge | None = None) -> ScoreCard:
    """Score a stored run (or return its cached card); optionally store per-question scores.

    With a `judge`, the card is always recomputed (judged cards are not cached) and the
    judge's model, endpoint and prompt are recorded in the run's manifest.
    """
    if use_cache and judge is None:
        card = cached_scorecard(store, run_id, semantic=semantic)
        if card is not None:
            return card
    from workbench.report.scorecard import build_scorecard

    fp = fingerprint(store, run_id)
    run = store.get_run(run_id)
    manifest = run["manifest"]
    if judge is not None:
        manifest = {**manifest, "judge": judge.manifest()}
        try:
            store.update_manifest(run_id, manifest)
        except StoreError:
            pass  # a read-only store still gets its judged report
    card = build_scorecard(
        store.questions(run_id), store.responses(run_id), manifest=manifest,
        semantic=semantic, judge=judge,
    )
    card = card.model_copy(update={"run_id": run_id})
    if judge is not None:
        return card
    try:
        with store.conn:
            store.conn.execute(
                "INSERT OR REPLACE INTO scorecards VALUES (?, ?, ?, ?, ?)",
                (run_id, int(semantic), fp, card.model_dump_json(), utc_now()),
            )
        if persist_scores:
            rows: list[tuple[str, str, str, float | None]] = []
            for r in card.rows:
                rows += [(r.question_id, "A", k, v) for k, v in r.scores_a.items()]
                rows += [(r.question_id, "B", k, v) for k, v in r.scores_b.items()]
            store.replace_scores(run_id, rows)
    except (sqlite3.Error, StoreError):
        # A read-only or locked store still gets its report; only the cache is skipped.
        pass
    return card
