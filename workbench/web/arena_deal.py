"""Where the Arena starts, and the run questions it deals.

It opens on the latest run: that run's stacks that are running now (else the run's stacks,
else whatever is running, else the recipes with an external backend last, since the Arena
cannot stream from one) and the run's eval set. "Deal" hands out the run's own questions,
one not yet voted on first, so a vote is on a question the run scored and is stored with
the run's id: votes and automatic scores then speak about the same questions
(`report.votes` rates the blind votes on a run's questions by default).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workbench.stacks.kinds import stack_kind
from workbench.stacks.recipe import RecipeError, load_stacks
from workbench.stacks.status import status
from workbench.store.votes import votes_of_run
from workbench.web.common import WebConfig, evalset_names, open_store, stack_names


@dataclass(frozen=True)
class ArenaStart:
    """The Arena's opening choice: two stacks, an eval set, and the run they come from."""

    stack_a: str | None
    stack_b: str | None
    evalset: str | None
    run_id: str | None
    note: str


@dataclass(frozen=True)
class Dealt:
    """A question dealt from a run: its text, and its gold answer (kept off the page, used
    only for the token F1 stored with the vote)."""

    run_id: str
    question_id: str
    question: str
    gold: str
    position: int
    total: int


def running_stacks(cfg: WebConfig) -> list[str]:
    """Names of the stacks whose every process is alive and healthy now."""
    try:
        return [s.name for s in status(cfg.settings) if s.state == "running"]
    except Exception:  # an unreadable state folder: nothing is known to run
        return []


def _latest_run(cfg: WebConfig) -> dict[str, object] | None:
    if not cfg.db_path.exists():
        return None
    try:
        with open_store(cfg) as store:
            runs = store.list_runs(limit=1)
    except Exception:  # a broken database: the Results tab says so; the Arena still opens
        return None
    return runs[0] if runs else None


def _external(cfg: WebConfig, names: list[str]) -> set[str]:
    try:
        recipes = load_stacks(cfg.settings.stacks_dir)
    except (OSError, RecipeError):
        return set()
    return {n for n in names if n in recipes and not stack_kind(recipes[n]).streams}


def arena_start(cfg: WebConfig) -> ArenaStart:
    """Two stacks and an eval set to open on (see the module docstring)."""
    run = _latest_run(cfg)
    running = running_stacks(cfg)
    run_stacks = [str(s) for s in run["stacks"]] if run and isinstance(run["stacks"], list) \
        else []
    recipes = stack_names(cfg)
    external = _external(cfg, recipes + running)
    ordered = ([s for s in run_stacks if s in running] + run_stacks + running
               + [s for s in recipes if s not in external] + recipes)
    picked = list(dict.fromkeys(ordered))[:2]
    sets = evalset_names(cfg)
    # Without a run: the demo set, not the alphabetically first (a counterfactual set plants
    # false passages, a poor place to start).
    fallback = next((x for x in sets if x.startswith("demo")), sets[0] if sets else None)
    evalset = str(run["evalset"]) if run and run.get("evalset") else fallback
    a, b = [*picked, None, None][:2]
    if run:
        up = [s for s in run_stacks if s in running]
        note = (f"Latest run `{run['id']}` ({evalset}): "
                + (f"{len(up)} of its {len(run_stacks)} stacks running" if running
                   else "none of its stacks is running (start them in the Stacks tab)")
                + ". **Deal** asks its own questions, so votes pair with its scores.")
    else:
        note = "No stored run yet: ask any question, or run one to deal its questions."
    return ArenaStart(a, b, evalset, str(run["id"]) if run else None, note)


_cache: dict[str, tuple[float, ArenaStart]] = {}


def cached_start(cfg: WebConfig, max_age_s: float = 5.0) -> ArenaStart:
    """`arena_start`, reused for a few seconds: a page load asks for it once per field."""
    key = str(cfg.db_path)
    hit = _cache.get(key)
    if hit is None or time.monotonic() - hit[0] > max_age_s:
        hit = (time.monotonic(), arena_start(cfg))
        _cache[key] = hit
    return hit[1]


def deal(cfg: WebConfig, run_id: str | None, after: Dealt | None = None) -> Dealt | None:
    """The run's next question (in run order, after `after`), one without a vote stored
    with this run first; None when the run is unknown or has no questions."""
    if not run_id:
        return None

    with open_store(cfg) as store:
        questions = store.questions(run_id)
        voted = {v.question for v in votes_of_run(store, run_id) if v.run_id == run_id}
    if not questions:
        return None
    start = after.position + 1 if after is not None and after.run_id == run_id else 0
    order = [(start + i) % len(questions) for i in range(len(questions))]
    fresh = [i for i in order if questions[i].question not in voted]
    i = (fresh or order)[0]
    q = questions[i]
    return Dealt(run_id=run_id, question_id=q.id, question=q.question,
                 gold=q.answers[0] if q.answers else "", position=i, total=len(questions))


__all__ = ["ArenaStart", "Dealt", "arena_start", "cached_start", "deal", "running_stacks"]
