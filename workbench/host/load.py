"""Load on the host during a run: load average, CPU steal and the processes outside the
stacks that used CPU, sampled by a background thread the run session starts and stops.

A timing taken while something else ran on the machine (another job, a build, a noisy VM
neighbour) is slower for reasons the stacks do not own; the report names them. The sampler
is bounded: it keeps at most `max_samples` load samples (halving them and doubling the
interval when full) and tallies CPU by process name, at most `max_intruders` names.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

#: How many processes outside the stacks the manifest names, busiest first.
TOP_INTRUDERS = 5


def read_loadavg(text: str | None = None) -> float:
    """The 1-minute load average (/proc/loadavg's first field)."""
    return read_load(text)[0]


def read_load(text: str | None = None) -> tuple[float, int]:
    """(1-minute load average, threads runnable right now) from /proc/loadavg.

    The load average lags by a minute (it still shows what ran before the run started);
    the runnable count (`4/170`: 4 runnable of 170) is this instant's, so many samples of
    it say how crowded the CPUs were during the run itself. The reader is one of the
    runnable threads and is not counted.
    """
    if text is None:
        try:
            text = Path("/proc/loadavg").read_text()
        except OSError:
            return os.getloadavg()[0], 0
    fields = text.split()
    running = fields[3].partition("/")[0] if len(fields) > 3 else ""
    return float(fields[0]), max(int(running) - 1, 0) if running.isdigit() else 0


def read_cpu_jiffies(text: str | None = None) -> tuple[int, int]:
    """(total, steal) jiffies of all CPUs from /proc/stat's `cpu` line; steal is the 8th
    field (time the hypervisor gave this VM's CPUs to someone else)."""
    if text is None:
        try:
            text = Path("/proc/stat").read_text()
        except OSError:
            return 0, 0
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            # guest and guest_nice are already counted in user and nice: not added twice.
            total = sum(values[:8])
            steal = values[7] if len(values) > 7 else 0
            return total, steal
    return 0, 0


def process_tree(pids: Iterable[int]) -> set[int]:
    """The PIDs and every descendant still alive."""
    out: set[int] = set()
    for pid in pids:
        try:
            root = psutil.Process(pid)
            out.add(pid)
            out.update(c.pid for c in root.children(recursive=True))
        except psutil.Error:
            continue
    return out


@dataclass
class LoadSummary:
    """What the sampler saw over the run (the manifest's `host_load`)."""

    duration_s: float
    samples: int
    interval_s: float
    cores: int
    #: The 1-minute load average: highest and mean over the samples.
    load_max: float
    load_mean: float
    #: Threads runnable at the sample instants (the run's own load, without the lag).
    runnable_mean: float
    runnable_max: int
    #: Share of samples with more runnable threads than cores.
    load_over_cores_share: float
    #: Share of all CPU time the hypervisor stole over the run.
    steal_share: float
    steal_max_share: float
    #: Cores' worth of CPU used by processes outside the stacks and the runner, on average.
    outside_cores_mean: float
    #: The busiest processes outside the stacks: name, pid, CPU-seconds, cores on average.
    intruders: list[dict[str, Any]] = field(default_factory=list)
    #: CPU-seconds the sampler itself spent sampling (its own cost to the machine; about
    #: 7 ms a sample with 180 processes).
    sampler_s: float = 0.0
    #: (seconds since start, load average, runnable threads, steal share) per kept sample.
    series: list[tuple[float, float, int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "duration_s": round(self.duration_s, 1), "samples": self.samples,
            "interval_s": self.interval_s, "cores": self.cores,
            "load_max": round(self.load_max, 2), "load_mean": round(self.load_mean, 2),
            "runnable_mean": round(self.runnable_mean, 2), "runnable_max": self.runnable_max,
            "load_over_cores_share": round(self.load_over_cores_share, 3),
            "steal_share": round(self.steal_share, 4),
            "steal_max_share": round(self.steal_max_share, 4),
            "outside_cores_mean": round(self.outside_cores_mean, 3),
            "intruders": self.intruders, "sampler_s": round(self.sampler_s, 2),
            "series": [[round(t, 1), round(la, 2), r, round(st, 4)]
                       for t, la, r, st in self.series],
        }


class LoadSampler:
    """Samples load, steal and outside processes every `interval_s` in a daemon thread.

    `stack_pids` returns the stacks' root PIDs (their trees are excluded, re-read at every
    sample so a child an engine starts later is still the stack's); the runner's own
    process is excluded too. `start()` takes the first sample, `stop()` the last and
    returns the summary, naming the `top` busiest processes outside the stacks.
    """

    def __init__(self, stack_pids: Callable[[], Iterable[int]] | Iterable[int] = (),
                 interval_s: float = 2.0, max_samples: int = 600, max_intruders: int = 200,
                 cores: int | None = None, top: int = TOP_INTRUDERS) -> None:
        self._stack_pids = stack_pids if callable(stack_pids) else (lambda p=list(stack_pids): p)
        self.interval_s = interval_s
        self.max_samples = max_samples
        self.max_intruders = max_intruders
        self.top = top
        self.cores = cores or len(os.sched_getaffinity(0)) or 1
        self._me = os.getpid()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._t0 = 0.0
        self._jiffies0 = (0, 0)
        self._last_jiffies = (0, 0)
        self._series: list[tuple[float, float, int, float]] = []
        self._n = 0
        self._over = 0
        self._load_sum = 0.0
        self._load_max = 0.0
        self._runnable_sum = 0
        self._runnable_max = 0
        self._spent = 0.0
        self._steal_max = 0.0
        #: pid -> (name, CPU-seconds at the previous sample) of processes outside the stacks.
        self._seen: dict[int, tuple[str, float]] = {}
        self._labels: dict[int, str] = {}
        #: label -> [CPU-seconds during the run, last pid]
        self._tally: dict[str, list[float]] = {}

    # --- sampling ---------------------------------------------------------------------
    def _outside(self, first: bool) -> None:
        excluded = process_tree(self._stack_pids()) | {self._me}
        alive: dict[int, tuple[str, float]] = {}
        for p in psutil.process_iter(["name", "cpu_times"]):
            if p.pid in excluded:
                continue
            times = p.info.get("cpu_times")
            if times is None:
                continue
            cpu = float(times.user + times.system)
            name = str(p.info.get("name") or p.pid)
            alive[p.pid] = (name, cpu)
            if first:
                continue
            before = self._seen.get(p.pid)
            # A process born since the last sample counts from zero: it ran in between.
            used = cpu - (before[1] if before else 0.0)
            if used <= 0.0:
                continue
            label = self._labels.get(p.pid) or self._label(p, name)
            entry = self._tally.get(label)
            if entry is None:
                if len(self._tally) >= self.max_intruders:
                    continue  # bounded: the busiest are already there by then
                entry = self._tally[label] = [0.0, float(p.pid)]
            entry[0] += used
            entry[1] = float(p.pid)
        self._seen = alive
        self._labels = {pid: lab for pid, lab in self._labels.items() if pid in alive}

    def _label(self, proc: psutil.Process, name: str) -> str:
        """`name` plus what it runs (`python: pytest -q ...`), so two Pythons differ."""
        try:
            args = proc.cmdline()[1:5]
        except psutil.Error:
            args = []
        # Paths by their last part, long arguments (inline code) by their first words.
        short = [Path(a).name if a.startswith("/") else a.splitlines()[0] if a else a
                 for a in args]
        shown = " ".join(a if len(a) <= 24 else a[:20] + "…" for a in short)[:90]
        label = f"{name}: {shown}" if shown else name
        self._labels[proc.pid] = label
        return label

    def sample(self, first: bool = False) -> None:
        """Take one sample now (the thread calls this; tests may too)."""
        now, cpu0 = time.monotonic(), time.thread_time()
        load, runnable = read_load()
        jiffies = read_cpu_jiffies()
        with self._lock:
            d_total = jiffies[0] - self._last_jiffies[0]
            d_steal = jiffies[1] - self._last_jiffies[1]
            steal = d_steal / d_total if d_total > 0 and not first else 0.0
            self._last_jiffies = jiffies
            self._n += 1
            self._load_sum += load
            self._load_max = max(self._load_max, load)
            self._runnable_sum += runnable
            self._runnable_max = max(self._runnable_max, runnable)
            self._over += runnable > self.cores
            self._steal_max = max(self._steal_max, steal)
            self._series.append((now - self._t0, load, runnable, steal))
            if len(self._series) > self.max_samples:
                # Full: keep every other sample and sample half as often from now on.
                self._series = self._series[::2]
                self.interval_s *= 2
            self._outside(first)
            self._spent += time.thread_time() - cpu0

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            # A failed sample (a /proc read racing a process's exit) must never stop a run.
            with contextlib.suppress(Exception):
                self.sample()

    def start(self) -> LoadSampler:
        """First sample now, then one every `interval_s` until `stop`."""
        self._t0 = time.monotonic()
        self._jiffies0 = self._last_jiffies = read_cpu_jiffies()
        self.sample(first=True)
        self._thread = threading.Thread(target=self._loop, name="host-load-sampler",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> LoadSummary:
        """The last sample, and what the run saw."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sample()
        duration = max(time.monotonic() - self._t0, 1e-9)
        total, steal = read_cpu_jiffies()
        d_total = total - self._jiffies0[0]
        steal_share = (steal - self._jiffies0[1]) / d_total if d_total > 0 else 0.0
        ranked = sorted(self._tally.items(), key=lambda kv: -kv[1][0])
        outside = sum(v[0] for v in self._tally.values())
        intruders = [{"name": name, "pid": int(pid), "cpu_s": round(cpu, 2),
                      "cores": round(cpu / duration, 3)}
                     for name, (cpu, pid) in ranked[:self.top]]
        return LoadSummary(
            duration_s=duration, samples=self._n, interval_s=self.interval_s,
            cores=self.cores, load_max=self._load_max,
            load_mean=self._load_sum / self._n if self._n else 0.0,
            runnable_mean=self._runnable_sum / self._n if self._n else 0.0,
            runnable_max=self._runnable_max, sampler_s=self._spent,
            load_over_cores_share=self._over / self._n if self._n else 0.0,
            steal_share=steal_share, steal_max_share=self._steal_max,
            outside_cores_mean=outside / duration, intruders=intruders,
            series=list(self._series))
