"""Start, resume and retry A/B runs: the one API the CLI, the web UI and the TUI call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.evalsets.model import EvalSet, Question
from workbench.runner.client import client_for
from workbench.runner.manifest import build_manifest, recipe_dump
from workbench.runner.records import Side
from workbench.runner.run import (
    SCHEDULES,
    ABRunner,
    ProgressCallback,
    RunError,
    RunOptions,
    RunProgress,
    select_questions,
)
from workbench.settings import Settings, get_settings
from workbench.stacks.recipe import Stack, get_stack


def resolve_stack(name: str, settings: Settings | None = None) -> Stack:
    """The recipe of a stack by name, placed on the ports it really runs on when it is up."""
    settings = settings or get_settings()
    from workbench.stacks.launcher import running_stack

    found = running_stack(name, settings)
    return found if found is not None else get_stack(name, settings.stacks_dir)


def load_evalset_ref(ref: str, settings: Settings | None = None) -> EvalSet:
    """An eval set by shipped name, folder, file or hub id."""
    from workbench.evalsets.loader import load_evalset

    return load_evalset(ref, settings=settings or get_settings())


@dataclass
class PreparedRun:
    """A run ready to execute: its id, questions, eval set and both stacks."""

    run_id: str
    evalset: EvalSet
    questions: list[Question]
    stacks: dict[Side, Stack]
    options: RunOptions


def create_run(store: Any, evalset_ref: str, stack_names: tuple[str, str], *,
               limit: int | None, options: RunOptions,
               settings: Settings | None = None) -> PreparedRun:
    """Validate everything, record the run with its manifest; nothing is asked yet."""
    if options.schedule not in SCHEDULES:
        raise RunError(f"unknown schedule {options.schedule!r}; known: {', '.join(SCHEDULES)}")
    if options.concurrency < 1:
        raise RunError("concurrency must be at least 1")
    settings = settings or get_settings()
    evalset = load_evalset_ref(evalset_ref, settings)
    stacks: dict[Side, Stack] = {
        "A": resolve_stack(stack_names[0], settings),
        "B": resolve_stack(stack_names[1], settings),
    }
    if stacks["A"].rag_url == stacks["B"].rag_url:
        raise RunError(f"stacks A and B are the same endpoint ({stacks['A'].rag_url})")
    questions = select_questions(evalset, limit)
    manifest = build_manifest(
        evalset, {str(k): v for k, v in stacks.items()}, schedule=options.schedule,
        concurrency=options.concurrency, timeout_s=options.timeout_s, warmup=options.warmup,
        limit=limit,
    )
    run_id = store.create_run(
        evalset=evalset.name, evalset_digest=evalset.digest, schedule=options.schedule,
        stacks={s: recipe_dump(st) for s, st in stacks.items()}, questions=questions,
        manifest=manifest, limit=limit,
    )
    return PreparedRun(run_id, evalset, questions, stacks, options)


def reopen_run(store: Any, run_id: str, *, retry_failed: bool = False,
               settings: Settings | None = None) -> PreparedRun:
    """A stored run set up again to resume it (or to retry its failed requests)."""
    settings = settings or get_settings()
    run = store.get_run(run_id)
    manifest = run["manifest"]
    evalset = load_evalset_ref(manifest["evalset"]["source"] or run["evalset"], settings)
    if evalset.digest != run["evalset_digest"]:
        raise RunError(
            f"eval set {run['evalset']} changed since run {run_id} started "
            f"(digest {evalset.digest[:12]} != {run['evalset_digest'][:12]}); start a new run"
        )
    stacks: dict[Side, Stack] = {}
    for side, recipe in store.recipes(run_id).items():
        # The recorded recipe is what was measured; only its ports follow the live stack.
        live = resolve_stack(recipe["name"], settings)
        stacks[side] = Stack.model_validate({**recipe, "ports": live.ports.model_dump()})
    options = RunOptions(
        schedule=manifest["schedule"], concurrency=int(manifest["concurrency"]),
        timeout_s=float(manifest["timeout_s"]), warmup=int(manifest["warmup_requests"]),
        retry_failed=retry_failed,
    )
    return PreparedRun(run_id, evalset, store.questions(run_id), stacks, options)


async def execute(store: Any, prepared: PreparedRun,
                  on_result: ProgressCallback | None = None,
                  on_status: Any = None) -> RunProgress:
    """Index the corpus on both stacks, warm up, then ask every pending pair."""
    clients = {side: client_for(st, timeout_s=prepared.options.timeout_s)
               for side, st in prepared.stacks.items()}
    runner = ABRunner(store, prepared.run_id, dict(clients), prepared.evalset.space_id,
                      prepared.options, on_result)
    passages = [p.model_dump() for p in prepared.evalset.passages]
    try:
        todo, _ = runner.pending(prepared.questions)
        if todo:
            for side, client in clients.items():
                try:
                    note = await client.prepare(prepared.evalset.space_id, passages)
                except Exception as exc:
                    store.set_status(prepared.run_id, "failed")
                    raise RunError(
                        f"stack {side} ({client.stack.name}) at {client.stack.rag_url} could "
                        f"not be prepared: {exc}. Is it up? (`workbench status`)"
                    ) from exc
                if on_status is not None:
                    on_status(f"{side} {client.stack.name}: {note}")
        return await runner.run(prepared.questions)
    finally:
        for client in clients.values():
            await client.aclose()
