"""The scorecard of a stored run: the one code path the CLI, web UI and TUI use for numbers.

Scoring reads the store alone (no stack is asked again). A computed card is cached in the
store, keyed by a fingerprint of the run's responses and the scoring version, so a view
opens a scored 5,000-question run without rescoring it; any new response invalidates it.
"""

from __future__ import annotations

from workbench.report.capacity_choice import with_load
from workbench.report.faithfulness import restore_meta
from workbench.report.models import ScoreCard
from workbench.scoring.judge import Judge
from workbench.store.db import Store, StoreError
from workbench.store.verdicts import VerdictStore

#: Bump when scoring changes meaning, so cached cards are recomputed.
SCORING_VERSION = "7"


def fingerprint(store: Store, run_id: str) -> str:
    """Changes whenever a response is added to the run (or the scoring version changes)."""
    return f"v{SCORING_VERSION}:{store.responses_fingerprint(run_id)}"


def cached_scorecard(store: Store, run_id: str, *, semantic: bool = True) -> ScoreCard | None:
    """The stored card when it is still valid, else None."""
    text = store.cached_card(run_id, semantic=semantic, fingerprint=fingerprint(store, run_id))
    return None if text is None else ScoreCard.model_validate_json(text)


def scorecard_for_run(store: Store, run_id: str, *, semantic: bool = True,
                      persist_scores: bool = False, use_cache: bool = True,
                      judge: Judge | None = None, pairwise: bool = False) -> ScoreCard:
    """Score a stored run (or return its cached card); optionally store per-question scores.

    With a `judge`, the card is always recomputed (judged cards are not cached) and the
    judge's model, endpoint and prompt are recorded in the run's manifest. The judge's
    verdicts are cached in the store (`store.verdicts`) unless it brings its own cache;
    `pairwise` also judges each candidate against the baseline in both orders.
    """
    if use_cache and judge is None:
        card = cached_scorecard(store, run_id, semantic=semantic)
        if card is not None:
            return with_load(store, run_id, card)
    # why here: report.scorecard imports scipy (SciPy takes seconds to import)
    from workbench.report.scorecard import build_scorecard

    fp = fingerprint(store, run_id)
    manifest = store.run_manifest(run_id)
    if judge is not None:
        if judge.cache is None:
            judge.cache = VerdictStore(store)
        manifest.record_judge({**judge.manifest(), "pairwise": pairwise})
        try:
            store.update_manifest(run_id, manifest)
        except StoreError:
            pass  # a read-only store still gets its judged report
    card = build_scorecard(
        # Planted passages live in question meta, which the store does not keep.
        restore_meta(store.questions(run_id), manifest), store.responses(run_id),
        stacks=list(store.recipes(run_id)),
        baseline=store.baseline(run_id), manifest=manifest, semantic=semantic, judge=judge,
        pairwise=pairwise,
    )
    card = card.model_copy(update={"run_id": run_id})
    if judge is not None:
        return with_load(store, run_id, card)
    try:
        store.save_card(run_id, semantic=semantic, fingerprint=fp,
                        card_json=card.model_dump_json())
        if persist_scores:
            rows: list[tuple[str, str, str, float | None]] = []
            for r in card.rows:
                for stack, scores in r.scores.items():
                    rows += [(r.question_id, stack, k, v) for k, v in scores.items()]
            store.replace_scores(run_id, rows)
    except StoreError:
        # A read-only or locked store still gets its report; only the cache is skipped.
        pass
    return with_load(store, run_id, card)
