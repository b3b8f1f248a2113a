"""Placing and starting the 2-8 stacks of one run: ports that never collide (the first two
keep the baseline's 8000 and the second stack's 9000), then each stack started in turn.
`up_many` is the one way to start several stacks: `workbench up` (two), `make demo` and
the matrix all use it."""

from __future__ import annotations

from collections.abc import Sequence

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
from workbench.stacks.state import load_state, save_started

#: The RAG API ports of a run's first two stacks (their engines on +1): the baseline's and
#: the second stack's, the ports `make ab` and the docs name.
FIRST_PORTS = (8000, 9000)


def placed_for_run(stacks: list[Stack], rag_ports: Sequence[int] = FIRST_PORTS,
                   engine_ports: Sequence[int | None] = ()) -> list[Stack]:
    """A run's stacks on ports that never collide: the first ones on `rag_ports` (engines
    on `engine_ports` where given, else rag + 1), the others on their recipes' ports, or
    on free ports where those are taken by an earlier stack."""
    placed: list[Stack] = []
    taken: set[int] = set()
    for i, stack in enumerate(stacks):
        if i < len(rag_ports):
            s = place(stack, rag_ports[i], engine_ports[i] if i < len(engine_ports) else None)
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


def up_many(stacks: list[Stack], settings: Settings | None = None, *,
            rag_ports: Sequence[int] = FIRST_PORTS, engine_ports: Sequence[int | None] = (),
            with_rag: bool = True, check_memory: bool = True) -> list[RunningStack]:
    """Start a run's 2-8 stacks one after another (see `placed_for_run` for their ports)
    and record them in order, the baseline first (`state.save_started`). Every check comes
    before anything starts: distinct names, ports, GPU shares, and (`check_memory`) this
    machine's memory; `with_rag` False starts the engines only."""
    settings = settings or get_settings()
    names = [s.name for s in stacks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LaunchError(f"{', '.join(dupes)} named more than once: choose distinct stacks")
    placed = placed_for_run(stacks, rag_ports, engine_ports)
    check_gpu_shares(placed)  # before anything starts: the cards must hold them all
    if check_memory:  # and this machine's memory, not the kernel's OOM killer
        check_stacks(placed, settings)
    for stack in placed:
        check_cpuset(stack)
        previous = load_state(stack.name, settings)
        if previous is None or previous.rag_port != stack.ports.rag:
            check_ports_free(stack, with_rag)
    running = [up(stack, settings, with_rag=with_rag) for stack in placed]
    save_started(names, settings)
    return running
