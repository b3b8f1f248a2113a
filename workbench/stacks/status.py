"""`status`: health, PIDs, ports, model, engine version and RSS of every recorded stack."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workbench.settings import Settings, get_settings
from workbench.stacks.engines import adapter_for
from workbench.stacks.kinds import stack_kind
from workbench.stacks.process import alive, http_ok, tree_rss_mib
from workbench.stacks.state import (
    display_alias,
    load_recipe_json,
    load_started,
    load_state,
    recorded_names,
)

Health = Literal["up", "down", "n/a"]


class StackStatus(BaseModel):
    """What `workbench status` shows for one stack."""

    name: str
    alias: Literal["A", "B"] | None = Field(
        default=None, description="A: the baseline, B: the second stack the last `up` "
        "started (started.json); the names a two-stack run is shown with.")
    state: Literal["running", "degraded", "down"] = Field(
        description="running: every process alive and healthy; down: none alive/healthy."
    )
    engine: str
    launch: str
    model: str | None = None
    engine_health: Health = "n/a"
    rag_health: Health = "n/a"
    engine_version: str | None = None
    pids: dict[str, int] = Field(default_factory=dict, description="Role -> pid (pgid).")
    alive: dict[str, bool] = Field(default_factory=dict, description="Role -> process alive.")
    rag_port: int
    engine_port: int | None = None
    rag_url: str
    engine_url: str | None = None
    rss_mib: dict[str, float] = Field(
        default_factory=dict, description="Role -> resident memory of its process tree."
    )
    started_at: str
    logs: dict[str, str] = Field(default_factory=dict, description="Role -> log file.")


def stack_status(name: str, settings: Settings | None = None) -> StackStatus | None:
    """The status of one recorded stack, or None when it has no state."""
    settings = settings or get_settings()
    state = load_state(name, settings)
    stack = load_recipe_json(name, settings)
    if state is None or stack is None:
        return None
    alive_by_role = {p.role: alive(p.pid, p.create_time) for p in state.processes}
    adapter = adapter_for(stack)
    engine_health: Health = "n/a"
    version = None
    url = adapter.health_url(stack)
    if url is not None:
        engine_alive = alive_by_role.get("engine", True)  # compose: no local process
        engine_health = "up" if engine_alive and http_ok(url) else "down"
        if engine_health == "up":
            version = adapter.version(stack)
    rag_health: Health = "n/a"
    if state.process("rag") is not None:
        ok = alive_by_role["rag"] and http_ok(f"{stack.rag_url}/health")
        rag_health = "up" if ok else "down"
    elif (backend := stack_kind(stack).backend_health_url(stack)) is not None:
        ok = http_ok(backend)
        rag_health = "up" if ok else "down"
    healths = [h for h in (engine_health, rag_health) if h != "n/a"]
    checks = list(alive_by_role.values()) + [h == "up" for h in healths]
    overall: Literal["running", "degraded", "down"]
    if checks and all(checks):
        overall = "running"
    elif any(h == "up" for h in healths):
        overall = "degraded"
    else:
        overall = "down"
    rss = {}
    for p in state.processes:
        if alive_by_role[p.role]:
            value = tree_rss_mib(p.pid)
            if value is not None:
                rss[p.role] = round(value, 1)
    return StackStatus(
        name=name,
        alias=display_alias(name, load_started(settings)),
        state=overall,
        engine=state.engine,
        launch=state.launch,
        model=state.model,
        engine_health=engine_health,
        rag_health=rag_health,
        engine_version=version,
        pids={p.role: p.pid for p in state.processes},
        alive=alive_by_role,
        rag_port=state.rag_port,
        engine_port=state.engine_port,
        rag_url=state.rag_url,
        engine_url=state.engine_url,
        rss_mib=rss,
        started_at=state.started_at,
        logs={p.role: p.log for p in state.processes},
    )


def status(settings: Settings | None = None) -> list[StackStatus]:
    """Status of every stack recorded under `<state_dir>/stacks/`, by name."""
    settings = settings or get_settings()
    found = (stack_status(name, settings) for name in recorded_names(settings))
    return [s for s in found if s is not None]
