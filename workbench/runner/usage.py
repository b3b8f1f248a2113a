"""What each stack's own processes spent during a run: CPU-seconds and peak RSS.

The choice needs a cost per answer even when no recipe carries a price; on a machine the
team owns, CPU time and memory are that cost. The runner reads each local stack's process
groups (engine and RAG service, from the launcher's state) before and after the run, so
the numbers are the stack's, not the runner's. Stacks reached by URL have no local
processes and no entry.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from workbench.records.manifest import RunManifest
from workbench.records.manifest_parts import ResourceUse
from workbench.settings import Settings
from workbench.stacks.state import load_state


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the kernel's high-water mark of the process's resident set."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def process_tree(pid: int) -> list[psutil.Process]:
    """The process `pid` and all its descendants (empty when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


@dataclass
class StackUsage:
    """CPU-seconds used since `start` and the peak RSS of one stack's processes."""

    name: str
    pids: list[int]
    cpu_start: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    _procs: list[psutil.Process] = field(default_factory=list)

    def start(self) -> None:
        """Remember the processes and their CPU time now."""
        self._procs = [p for pid in self.pids for p in process_tree(pid)]
        self.cpu_start = _cpu_s(self._procs)

    def stop(self) -> None:
        """CPU time since `start`, and the sum of the processes' peak RSS."""
        self.cpu_s = max(_cpu_s(self._procs) - self.cpu_start, 0.0)
        self.peak_rss_mb = sum(_peak_rss_mb(p.pid) for p in self._procs)


def stack_usages(names: list[str], settings: Settings) -> dict[str, StackUsage]:
    """Usage meters for the stacks this machine launched (others get none)."""
    out: dict[str, StackUsage] = {}
    for name in names:
        state = load_state(name, settings)
        if state is None or not state.processes:
            continue
        out[name] = StackUsage(name, [p.pid for p in state.processes])
    return out


def record(manifest: RunManifest, usages: dict[str, StackUsage],
           answers: dict[str, int]) -> RunManifest:
    """The manifest with this session's usage added to `resources` (a resumed run adds
    its sessions together; the peak is the highest seen). Recorded in place; returned."""
    resources = dict(manifest.resources or {})
    for name, u in usages.items():
        prev = resources.get(name) or ResourceUse()
        resources[name] = ResourceUse(
            cpu_s=float(prev.cpu_s or 0.0) + u.cpu_s,
            answers=int(prev.answers or 0) + answers.get(name, 0),
            peak_rss_mb=max(float(prev.peak_rss_mb or 0.0), u.peak_rss_mb),
            note="CPU-seconds and peak RSS (sum of per-process peaks) of the stack's "
                 "engine and RAG service processes during the run",
        )
    manifest.record_resources(resources)
    return manifest
