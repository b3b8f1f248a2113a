"""Placing and starting the 2-8 stacks of one run: ports that never collide (the first two
keep the Ollama side's 8000 and the vLLM side's 9000), then each stack started in turn."""

from __future__ import annotations

from workbench.settings import Settings, get_settings
from workbench.stacks.capacity import check_stacks
from workbench.stacks.gpu import check_gpu_shares
from workbench.stacks.launcher import (
    RunningStack,
    check_cpuset,
    check_ports_free,
    place,
    up,
)
from workbench.stacks.process import LaunchError, free_port
from workbench.stacks.recipe import Stack, check_port_clashes
from workbench.stacks.state import load_state, save_sides


def placed_for_run(stacks: list[Stack]) -> list[Stack]:
    """A run's stacks on ports that never collide: the first two on 8000 and 9000 (the
    Ollama side's and the vLLM side's RAG APIs, engines on +1), the others on their
    recipes' ports, or on free ports where those are taken by an earlier stack."""
    placed: list[Stack] = []
    taken: set[int] = set()
    for i, stack in enumerate(stacks):
        if i < 2:
            s = place(stack, (8000, 9000)[i])
        else:
            s = stack
            wanted = {stack.ports.rag, stack.ports.engine} - {None}
            if wanted & taken:
                rag = free_port()
                s = place(stack, rag, free_port() if stack.ports.engine is not None else None)
        taken |= {p for p in (s.ports.rag, s.ports.engine) if p is not None}
        placed.append(s)
    check_port_clashes(placed)
    return placed


def up_many(stacks: list[Stack], settings: Settings | None = None) -> list[RunningStack]:
    """Start a run's 2-8 stacks one after another (see `placed_for_run` for their ports);
    the first two are recorded as sides A and B."""
    settings = settings or get_settings()
    names = [s.name for s in stacks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LaunchError(f"{', '.join(dupes)} named more than once: choose distinct stacks")
    placed = placed_for_run(stacks)
    check_gpu_shares(placed)  # before anything starts: the cards must hold them all
    check_stacks(placed, settings)  # and this machine's memory, not the kernel's OOM killer
    for stack in placed:
        check_cpuset(stack)
        previous = load_state(stack.name, settings)
        if previous is None or previous.rag_port != stack.ports.rag:
            check_ports_free(stack, True)
    running = [up(stack, settings, with_rag=True) for stack in placed]
    save_sides(names[0], names[1], settings)
    return running
