"""Start, resume and retry runs of 2-8 stacks: the one API the CLI, the web UI and the TUI
call."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from workbench.evalsets.loader import load_evalset
from workbench.host.idle import IdleMeter
from workbench.host.load import LoadSampler
from workbench.host.record import record_host_load
from workbench.records.evalset import EvalSet, Question
from workbench.runner import engine_metrics, usage
from workbench.runner.client import client_for
from workbench.runner.external import sent_space_id
from workbench.runner.manifest import build_manifest, recipe_dump
from workbench.runner.picks import stacks_problem
from workbench.runner.run import (
    SCHEDULES,
    ProgressCallback,
    RunError,
    Runner,
    RunOptions,
    RunProgress,
    Schedule,
    select_questions,
)
from workbench.settings import Settings, get_settings
from workbench.stacks.launcher import running_stack
from workbench.stacks.recipe import Stack, get_stack
from workbench.store.db import Store
from workbench.targets import (
    RemoteTargetError,
    Route,
    check_routes,
    recipe_allows,
    stack_routes,
)


def resolve_stack(name: str, settings: Settings | None = None) -> Stack:
    """The recipe of a stack by name, placed on the ports it really runs on when it is up."""
    settings = settings or get_settings()

    found = running_stack(name, settings)
    return found if found is not None else get_stack(name, settings.stacks_dir)


def load_evalset_ref(ref: str, settings: Settings | None = None) -> EvalSet:
    """An eval set by shipped name, folder, file or hub id."""
    return load_evalset(ref, settings=settings or get_settings())


@dataclass
class PreparedRun:
    """A run ready to execute: its id, questions, eval set and stacks (by name, run order)."""

    run_id: str
    evalset: EvalSet
    questions: list[Question]
    stacks: dict[str, Stack]
    options: RunOptions
    baseline: str = ""
    #: Where the run's traffic goes, per stack (printed before the first request).
    routes: list[Route] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.baseline:
            self.baseline = next(iter(self.stacks))


def check_stack_names(names: Sequence[str], baseline: str | None = None) -> str:
    """2-8 distinct stack names and a baseline among them (`runner.picks`); returns the
    baseline."""
    problem = stacks_problem(names, baseline)
    if problem is not None:
        raise RunError(f"--{problem[0]}: {problem[1]}")
    return baseline or names[0]


def run_routes(stacks: dict[str, Stack], allow_remote: bool,
               recorded: Sequence[str] = ()) -> list[Route]:
    """Every route of the run's stacks, checked: a remote one needs `allow_remote` (the
    `--allow-remote` flag), the stack's `allow_remote: true`, or (resuming) to be one the
    run was allowed when it started (`recorded`: the URLs in its manifest)."""
    routes = [r for st in stacks.values() for r in stack_routes(st)]
    allowed: set[str] | bool = True if allow_remote else recipe_allows(stacks.values())
    try:
        # A URL the run was allowed at its start is still checked against the permitted
        # hosts (check_routes with True), only the consent is remembered.
        check_routes([r for r in routes if r.url in recorded], True)
        check_routes([r for r in routes if r.url not in recorded], allowed)
    except RemoteTargetError as exc:
        raise RunError(str(exc)) from exc
    return routes


def create_run(store: Store, evalset_ref: str, stack_names: Sequence[str], *,
               limit: int | None, options: RunOptions, baseline: str | None = None,
               settings: Settings | None = None,
               extra_manifest: dict[str, Any] | None = None,
               allow_remote: bool = False) -> PreparedRun:
    """Validate everything, record the run with its manifest; nothing is asked yet.

    `stack_names` are 2-8 stacks in run order; the baseline is `baseline`, else the first.
    `extra_manifest` adds entries (a matrix file's SLOs and prices) to the manifest.
    A stack reached at another machine is refused unless `allow_remote` (or its recipe's
    `allow_remote: true`); the routes are recorded in the manifest (`traffic`).
    """
    if options.schedule not in SCHEDULES:
        raise RunError(f"unknown schedule {options.schedule!r}; known: {', '.join(SCHEDULES)}")
    if options.concurrency < 1:
        raise RunError("concurrency must be at least 1")
    base = check_stack_names(stack_names, baseline)
    settings = settings or get_settings()
    evalset = load_evalset_ref(evalset_ref, settings)
    stacks = {name: resolve_stack(name, settings) for name in stack_names}
    seen: dict[str, str] = {}
    for name, st in stacks.items():
        if st.rag_url in seen:
            raise RunError(f"stacks {seen[st.rag_url]} and {name} are the same endpoint "
                           f"({st.rag_url})")
        seen[st.rag_url] = name
    routes = run_routes(stacks, allow_remote)
    questions = select_questions(evalset, limit)
    manifest = build_manifest(
        evalset, stacks, schedule=options.schedule,
        concurrency=options.concurrency, timeout_s=options.timeout_s, warmup=options.warmup,
        limit=limit, baseline=base,
    )
    manifest.record_matrix(extra_manifest or {})
    # The space id each stack is asked under (an external stack's recipe may set its own):
    # the report names it when a stack finds nothing there.
    manifest.record_routes(
        {name: sent_space_id(st, evalset.space_id) for name, st in stacks.items()},
        [{"stack": r.stack, "part": r.part, "url": r.url, "remote": r.remote}
         for r in routes])
    run_id = store.create_run(
        evalset=evalset.name, evalset_digest=evalset.digest, schedule=options.schedule,
        stacks=[recipe_dump(st) for st in stacks.values()], questions=questions,
        manifest=manifest, limit=limit, baseline=base,
    )
    return PreparedRun(run_id, evalset, questions, stacks, options, base, routes)


def reopen_run(store: Store, run_id: str, *, retry_failed: bool = False,
               settings: Settings | None = None, allow_remote: bool = False) -> PreparedRun:
    """A stored run set up again to resume it (or to retry its failed requests).

    The remote URLs the run was allowed when it started stay allowed; a stack that moved to
    another remote URL needs `allow_remote` again."""
    settings = settings or get_settings()
    run = store.get_run(run_id)
    manifest = store.run_manifest(run_id)
    # What the run needs to go on, before anything is loaded or asked.
    missing = [k for k in ("schedule", "concurrency", "timeout_s", "warmup_requests")
               if getattr(manifest, k) is None]
    if missing:
        raise RunError(f"run {run_id}: its manifest lacks {', '.join(missing)}: it cannot "
                       "be resumed")
    if manifest.schedule not in SCHEDULES:
        raise RunError(f"run {run_id}: manifest field schedule: unknown schedule "
                       f"{manifest.schedule!r}; known: {', '.join(SCHEDULES)}")
    source = manifest.evalset.source if manifest.evalset is not None else None
    evalset = load_evalset_ref(source or run["evalset"], settings)
    if evalset.digest != run["evalset_digest"]:
        raise RunError(
            f"eval set {run['evalset']} changed since run {run_id} started "
            f"(digest {evalset.digest[:12]} != {run['evalset_digest'][:12]}); start a new run"
        )
    stacks: dict[str, Stack] = {}
    for name, recipe in store.recipes(run_id).items():
        # The recorded recipe is what was measured; only its ports follow the live stack.
        live = resolve_stack(recipe["name"], settings)
        stacks[name] = Stack.model_validate({**recipe, "ports": live.ports.model_dump()})
    recorded = [str(t.url) for t in manifest.traffic or []]
    routes = run_routes(stacks, allow_remote, recorded)
    options = RunOptions(
        schedule=cast(Schedule, manifest.schedule), concurrency=int(manifest.concurrency or 1),
        timeout_s=float(manifest.timeout_s or 0.0),
        warmup=int(manifest.warmup_requests or 0), retry_failed=retry_failed,
    )
    return PreparedRun(run_id, evalset, store.questions(run_id), stacks, options,
                       store.baseline(run_id), routes)


async def execute(store: Store, prepared: PreparedRun,
                  on_result: ProgressCallback | None = None,
                  on_status: Callable[[str], None] | None = None) -> RunProgress:
    """Index the corpus on every stack, warm up, then ask every pending pair."""
    clients = {name: client_for(st, timeout_s=prepared.options.timeout_s)
               for name, st in prepared.stacks.items()}
    runner = Runner(store, prepared.run_id, dict(clients), prepared.evalset.space_id,
                      prepared.options, on_result)
    passages = [p.model_dump() for p in prepared.evalset.passages]
    try:
        todo, _ = runner.pending(prepared.questions)
        if todo:
            for client in clients.values():
                try:
                    note = await client.prepare(prepared.evalset.space_id, passages)
                except Exception as exc:
                    store.set_status(prepared.run_id, "failed")
                    raise RunError(
                        f"stack {client.stack.name} at {client.stack.rag_url} could "
                        f"not be prepared: {exc}. Is it up? (`workbench status`)"
                    ) from exc
                if on_status is not None:
                    on_status(f"{client.stack.name}: {note}")
            # Which index each stack answered from: equal keys mean one shared index.
            manifest = store.run_manifest(prepared.run_id)
            # (getattr: a client written before `index_key` existed simply has none.)
            manifest.record_indexes({name: getattr(c, "index_key", None)
                                     for name, c in clients.items()})
            store.update_manifest(prepared.run_id, manifest)
        usages = usage.stack_usages(list(prepared.stacks), get_settings())
        for u in usages.values():
            u.start()
        # The host during the run: load, steal and processes outside the stacks; and what
        # each idle stack spends while another answers (workbench.host).
        stack_pids = {name: list(u.pids) for name, u in usages.items()}
        sampler = LoadSampler(lambda: [p for pids in stack_pids.values() for p in pids])
        idle = IdleMeter(stack_pids)
        runner.before_phase, runner.after_phase = idle.before_phase, idle.after_phase
        meters = engine_metrics.engine_meters(prepared.stacks)
        runner.after_warmup = lambda: engine_metrics.start_all(meters)
        sampler.start()
        try:
            return await runner.run(prepared.questions)
        finally:
            if meters:
                await asyncio.to_thread(engine_metrics.stop_all, meters)
                with contextlib.suppress(Exception):  # best effort, as usage below
                    manifest = store.run_manifest(prepared.run_id)
                    store.update_manifest(prepared.run_id,
                                          engine_metrics.record(manifest, meters))
            with contextlib.suppress(Exception):  # best effort, as usage below
                summary = await asyncio.to_thread(sampler.stop)
                manifest = store.run_manifest(prepared.run_id)
                store.update_manifest(prepared.run_id,
                                      record_host_load(manifest, summary, idle.record()))
            # Recorded even when the run stops early: the answers stored so far cost it.
            for u in usages.values():
                u.stop()
            if usages:
                with contextlib.suppress(Exception):  # a full or locked store is reported
                    progress = runner.progress  # by the run itself; usage is best effort
                    manifest = store.run_manifest(prepared.run_id)
                    store.update_manifest(prepared.run_id, usage.record(
                        manifest, usages, dict(progress.per_stack_done)))
    finally:
        for client in clients.values():
            await client.aclose()
