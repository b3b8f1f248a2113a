"""Start and stop stacks: the engine, then the stack's RAG service, each in its own
process group, with logs and a state.json under `<state_dir>/stacks/<name>/`.

The Python API the runner and the UIs use:

    up(stack, settings) -> RunningStack          # idempotent; fails fast, with logs
    up_many(stacks, settings) -> list[RunningStack]  # in workbench.stacks.placement
    down(names=None, settings) -> list[str]      # stop named stacks, or all
    running_stack(name, settings) -> Stack | None  # effective recipe with real ports
    status(settings) -> list[StackStatus]        # in workbench.stacks.status
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.settings import Settings, get_settings
from workbench.stacks import identity
from workbench.stacks.engines import LaunchContext, adapter_for
from workbench.stacks.engines.compose import qdrant_port
from workbench.stacks.gpu import check_gpu_shares, runs_on_gpu_here
from workbench.stacks.kinds import stack_kind
from workbench.stacks.process import (
    LaunchError,
    alive,
    create_time,
    http_ok,
    port_in_use,
    run_once,
    spawn,
    stop_group,
    wait_healthy,
)
from workbench.stacks.rag_service import RAG_HEALTH_TIMEOUT_S, rag_service
from workbench.stacks.recipe import RecipeError, Stack
from workbench.stacks.state import (
    ProcessRecord,
    StackState,
    clear_state,
    load_recipe_json,
    load_started,
    load_state,
    recorded_names,
    run_dir,
    save_recipe,
    save_started,
    save_state,
    stack_lock,
)


@dataclass(frozen=True)
class RunningStack:
    """A started (or already running) stack."""

    stack: Stack
    state: StackState
    reused: bool = False

    @property
    def rag_url(self) -> str:
        """Base URL of the stack's RAG API."""
        return self.stack.rag_url

    @property
    def engine_url(self) -> str | None:
        """OpenAI-compatible base URL of the engine (ends in /v1)."""
        return self.stack.engine_base_url


def check_cpuset(stack: Stack) -> None:
    """Raise when resources.cpuset names CPUs this process may not use (or a reversed range)."""
    spec = stack.resources.cpuset
    if spec is None:
        return
    where = f"{stack.source_path or stack.name}: field resources.cpuset"
    allowed = os.sched_getaffinity(0)
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        first, last = int(lo), int(hi or lo)
        if first > last:
            raise RecipeError(f"{where}: range {part!r} is reversed")
        missing = sorted(set(range(first, last + 1)) - allowed)
        if missing:
            raise RecipeError(
                f"{where}: CPU(s) {missing} are not available here (usable: {sorted(allowed)})"
            )


def check_gpu_room(stack: Stack, settings: Settings) -> None:
    """Raise RecipeError when `stack` and the stacks already running here would ask one
    GPU for more memory than it has (see `workbench.stacks.gpu`)."""
    if not runs_on_gpu_here(stack):
        return
    others = []
    for name in recorded_names(settings):
        other = running_stack(name, settings) if name != stack.name else None
        state = load_state(name, settings) if other is not None else None
        if other is not None and state is not None:
            # recipe.json has no source path; the state keeps it, so errors name the file.
            source = Path(state.recipe_source) if state.recipe_source else None
            others.append(other.model_copy(update={"source_path": source}))
    check_gpu_shares([*others, stack])


def _ports_needed(stack: Stack, with_rag: bool) -> list[tuple[str, int]]:
    ports: list[tuple[str, int]] = []
    if with_rag and stack_kind(stack).starts_rag_service:
        ports.append(("ports.rag", stack.ports.rag))
    if not identity.engine_is_elsewhere(stack) and stack.ports.engine is not None:
        ports.append(("ports.engine", stack.ports.engine))
    if stack.launch == "compose":
        ports.append(("qdrant (ports.rag + 2)", qdrant_port(stack)))
    return ports


def check_ports_free(stack: Stack, with_rag: bool = True) -> None:
    """Raise, before anything starts, when a port the stack needs is already in use."""
    for field, port in _ports_needed(stack, with_rag):
        if port_in_use(stack.host, port):
            raise LaunchError(
                f"stack {stack.name!r}: port {port} ({field}) on {stack.host} is already in use; "
                "stop whatever holds it or choose another port"
            )


def _is_healthy(stack: Stack, state: StackState) -> bool:
    if not all(alive(p.pid, p.create_time) for p in state.processes):
        return False
    url = adapter_for(stack).health_url(stack)
    if url is not None and not http_ok(url):
        return False
    if state.process("rag") is not None:
        return http_ok(f"{stack.rag_url}/health")
    backend = stack_kind(stack).backend_health_url(stack)
    return backend is None or http_ok(backend)


def up(
    stack: Stack,
    settings: Settings | None = None,
    *,
    with_rag: bool = True,
    health_timeout_s: float | None = None,
) -> RunningStack:
    """Start `stack` (engine, then its RAG service) and wait until both are healthy.

    Idempotent: a stack already running healthy on the same ports is returned as is
    (`reused=True`). A dead or half-started previous run is cleaned up first. Raises
    LaunchError (command + last log lines) when a process dies or is not healthy in time,
    after stopping whatever it started; EngineUnavailableError when the engine is missing.
    """
    settings = settings or get_settings()
    check_cpuset(stack)
    check_gpu_room(stack, settings)
    with stack_lock(stack.name, settings):
        previous = load_state(stack.name, settings)
        if previous is not None:
            same_ports = (previous.rag_port, previous.engine_port) == (
                stack.ports.rag,
                stack.ports.engine,
            )
            recorded = load_recipe_json(stack.name, settings)
            same_recipe = recorded is not None and recorded.model_dump() == stack.model_dump()
            # A stack started with its RAG service also serves a caller that needs no RAG.
            enough = previous.with_rag or not with_rag
            if same_ports and same_recipe and enough and _is_healthy(stack, previous):
                assert recorded is not None
                return RunningStack(recorded, previous, reused=True)
            # Alive on other ports: the caller must choose; otherwise (dead, unhealthy, an
            # edited recipe, or started without its RAG service) restart it cleanly.
            if not same_ports and any(alive(p.pid, p.create_time) for p in previous.processes):
                raise LaunchError(
                    f"stack {stack.name!r} already runs on rag port {previous.rag_port}; "
                    f"`workbench down {stack.name}` first"
                )
            _stop(stack.name, settings)
        return _start(stack, settings, with_rag, health_timeout_s)


def _start(
    stack: Stack, settings: Settings, with_rag: bool, health_timeout_s: float | None
) -> RunningStack:
    adapter = adapter_for(stack)
    elsewhere = identity.engine_is_elsewhere(stack)
    if elsewhere:
        identity.check_remote_allowed(stack)  # before any traffic; prints where it goes
    adapter.check_available(stack, settings)
    check_ports_free(stack, with_rag)
    adapter.prepare(stack, settings)
    folder = run_dir(stack.name, settings)
    ctx = LaunchContext(settings=settings, run_dir=folder)
    recipe_path = save_recipe(stack, settings)
    state = StackState(
        name=stack.name,
        engine=stack.engine,
        launch=stack.launch,
        model=stack.model.name if stack.model else None,
        rag_port=stack.ports.rag,
        engine_port=stack.ports.engine,
        rag_url=stack.rag_url,
        engine_url=stack.engine_base_url,
        with_rag=with_rag,
        recipe_source=str(stack.source_path) if stack.source_path else None,
    )
    try:
        env = adapter.command_env(stack, ctx)
        for argv in adapter.start_commands(stack, ctx):
            state.commands.append(argv)
            save_state(state, settings)  # recorded first, so `down` can undo a partial start
            run_once(argv, env, ctx.log("engine"), timeout=900)
        proc = adapter.engine_process(stack, ctx)
        if proc is not None:
            _spawn_recorded(state, "engine", proc.argv, proc.env, ctx, settings)
        health = adapter.health_url(stack)
        if elsewhere:
            identity.check_remote_engine(stack, folder)
        elif health is not None:
            timeout = (
                health_timeout_s
                or stack.startup_timeout_s
                or (proc.health_timeout_s if proc else 600.0)
            )
            record = state.process("engine")
            wait_healthy(
                health,
                record.pid if record else os.getpid(),
                timeout,
                f"engine of stack {stack.name!r}",
                record.argv if record else state.commands[-1],
                ctx.log("engine"),
                ready=lambda: adapter.ready(stack),
            )
        adapter.after_healthy(stack, ctx)
        if not stack_kind(stack).starts_rag_service:
            _check_backend(stack)
        elif with_rag:
            _start_rag(stack, state, ctx, recipe_path, health_timeout_s)
        save_state(state, settings)
    except BaseException:
        _stop(stack.name, settings)
        raise
    return RunningStack(stack, state)


def _spawn_recorded(
    state: StackState,
    role: str,
    argv: list[str],
    env: dict[str, str],
    ctx: LaunchContext,
    settings: Settings,
) -> ProcessRecord:
    log = ctx.log(role)
    return _record(state, role, spawn(argv, env, log), argv, log, settings)


def _record(state: StackState, role: str, pid: int, argv: list[str], log: Path,
            settings: Settings) -> ProcessRecord:
    # Saved at once, before any health wait, so `down` can stop a process that never came up.
    record = ProcessRecord(
        role=role, pid=pid, create_time=create_time(pid) or time.time(), argv=argv, log=str(log)
    )
    state.processes.append(record)
    save_state(state, settings)
    return record


def _start_rag(
    stack: Stack,
    state: StackState,
    ctx: LaunchContext,
    recipe_path: os.PathLike[str],
    health_timeout_s: float | None,
) -> None:
    settings = ctx.settings
    # The service must see the same folders as the launcher, whatever its cwd.
    env = {"WORKBENCH_CACHE_DIR": str(settings.cache_dir)}
    if stack.launch == "compose":
        env["QDRANT_URL"] = f"http://127.0.0.1:{qdrant_port(stack)}"
    service = rag_service(stack, Path(recipe_path), ctx.log("rag"), env=env,
                          state_dir=settings.state_dir,
                          timeout_s=health_timeout_s or RAG_HEALTH_TIMEOUT_S)
    service.start(on_spawn=lambda pid: _record(state, "rag", pid, service.argv, service.log,
                                               settings))


def _check_backend(stack: Stack) -> None:
    url = stack_kind(stack).backend_health_url(stack)
    if url is not None and not http_ok(url, timeout=5):
        raise LaunchError(f"external backend of stack {stack.name!r} does not answer at {url}")


def _stop(name: str, settings: Settings) -> bool:
    """Stop everything a stack's state records (RAG first, then engine); forget it."""
    state = load_state(name, settings)
    if state is None:
        return False
    for record in reversed(state.processes):
        stop_group(record.pid, create_time=record.create_time)
    stack = load_recipe_json(name, settings)
    if stack is not None:
        adapter = adapter_for(stack)
        ctx = LaunchContext(settings=settings, run_dir=run_dir(name, settings))
        for argv in adapter.stop_commands(stack, ctx) if state.commands else []:
            try:
                run_once(argv, adapter.command_env(stack, ctx), ctx.log("engine"), timeout=300)
            except LaunchError as exc:
                print(f"warning: {exc}", file=sys.stderr)
        adapter.after_stop(stack, ctx)
    _wait_ports_free(state)
    clear_state(name, settings)
    return True


def _wait_ports_free(state: StackState, timeout_s: float = 10.0) -> None:
    ports = [p for p in (state.rag_port, state.engine_port) if p is not None]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(port_in_use("127.0.0.1", p) for p in ports):
        time.sleep(0.1)


def down(names: list[str] | None = None, settings: Settings | None = None) -> list[str]:
    """Stop the named stacks (every recorded one when None); return the names stopped."""
    settings = settings or get_settings()
    targets = names if names else recorded_names(settings)
    stopped = []
    for name in targets:
        if load_state(name, settings) is None:
            continue  # never started here: do not create a folder just to lock it
        with stack_lock(name, settings):
            if _stop(name, settings):
                stopped.append(name)
    started = load_started(settings)
    if any(n in targets for n in started):  # each keeps its place: the others their alias
        save_started([None if n in targets else n for n in started], settings)
    return stopped


def running_stack(name: str, settings: Settings | None = None) -> Stack | None:
    """The effective recipe (real ports) of a running stack; None when it is not running."""
    settings = settings or get_settings()
    state = load_state(name, settings)
    if state is None:
        return None
    if not all(alive(p.pid, p.create_time) for p in state.processes):
        return None
    return load_recipe_json(name, settings)


def place(stack: Stack, rag_port: int, engine_port: int | None = None) -> Stack:
    """The stack moved to `rag_port` (engine on `engine_port`, default rag port + 1)."""
    return stack.with_ports(rag_port, engine_port if engine_port is not None else rag_port + 1)



