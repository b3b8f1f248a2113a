"""What idle stacks spend while another stack answers.

The interleaved schedule measures one stack at a time, but every other stack stays up. An
idle engine that still burns CPU (a polling loop, a busy-waiting thread pool) takes cores
from the stack being measured, so its latency is partly the idle stack's doing. The meter
reads each stack's process tree CPU time before and after every phase of the schedule and
charges the idle stacks' CPU to the phase's answers: CPU-seconds per answer of the others.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

#: Idle CPU-seconds per answer of another stack above which the report warns: 0.05 s of
#: CPU per answer is a few percent of one core at this machine's one-to-two-second answers.
MATERIAL_CPU_S_PER_ANSWER = 0.05


def _tree(pids: list[int]) -> list[psutil.Process]:
    procs: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
    return procs


@dataclass
class StackIdle:
    """One stack's CPU while the others answered."""

    pids: list[int]
    procs: list[psutil.Process] = field(default_factory=list)
    cpu_s: float = 0.0
    idle_s: float = 0.0
    others_answers: int = 0
    _start: float | None = None

    def cpu_now(self) -> float:
        """CPU-seconds of the tree so far (a process gone since is re-read from the roots)."""
        total, lost = 0.0, False
        for p in self.procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                lost = True
        if lost:  # the tree changed: measure the new one from here on
            self.procs = _tree(self.pids)
        return total


class IdleMeter:
    """Per-stack CPU used while other stacks answered (the manifest's `idle_cpu`).

    `stack_pids` maps each local stack to its root PIDs (engine and RAG service); stacks
    without local processes are not metered. `before_phase`/`after_phase` are called by
    the runner around every phase with the stacks the phase asks.
    """

    def __init__(self, stack_pids: dict[str, list[int]]) -> None:
        self.stacks = {name: StackIdle(pids, _tree(pids)) for name, pids in stack_pids.items()
                       if pids}
        self._t0 = 0.0

    def before_phase(self, active: set[str]) -> None:
        """Remember the idle stacks' CPU time as the phase starts."""
        self._t0 = time.monotonic()
        for name, s in self.stacks.items():
            s._start = None if name in active else s.cpu_now()

    def after_phase(self, active: set[str], answered: int) -> None:
        """Charge what each idle stack used to the `answered` answers of the phase."""
        wall = time.monotonic() - self._t0
        for name, s in self.stacks.items():
            if name in active or s._start is None:
                continue
            s.cpu_s += max(s.cpu_now() - s._start, 0.0)
            s.idle_s += wall
            s.others_answers += answered
            s._start = None

    def record(self) -> dict[str, dict[str, Any]]:
        """Per stack: idle CPU-seconds, the others' answers meanwhile, and their ratio."""
        out: dict[str, dict[str, Any]] = {}
        for name, s in self.stacks.items():
            per = s.cpu_s / s.others_answers if s.others_answers else None
            out[name] = {
                "cpu_s": round(s.cpu_s, 3), "idle_s": round(s.idle_s, 1),
                "others_answers": s.others_answers,
                "cpu_s_per_other_answer": None if per is None else round(per, 4),
                "cores_while_idle": round(s.cpu_s / s.idle_s, 4) if s.idle_s else None,
            }
        return out


def merge(previous: dict[str, Any] | None, current: dict[str, dict[str, Any]]
          ) -> dict[str, dict[str, Any]]:
    """A resumed run's idle CPU: this session's added to what earlier sessions recorded."""
    out = {k: dict(v) for k, v in (previous or {}).items() if isinstance(v, dict)}
    for name, cur in current.items():
        prev = out.get(name) or {}
        cpu = float(prev.get("cpu_s") or 0.0) + float(cur["cpu_s"])
        idle = float(prev.get("idle_s") or 0.0) + float(cur["idle_s"])
        answers = int(prev.get("others_answers") or 0) + int(cur["others_answers"])
        out[name] = {"cpu_s": round(cpu, 3), "idle_s": round(idle, 1),
                     "others_answers": answers,
                     "cpu_s_per_other_answer": round(cpu / answers, 4) if answers else None,
                     "cores_while_idle": round(cpu / idle, 4) if idle else None}
    return out
