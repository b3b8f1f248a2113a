"""The load sampler on real processes: busy loops outside the stacks are named as
intruders and make the run disturbed; a stack's own busy process is never an intruder.
Every loop ends by itself within seconds (bounded)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from workbench.host.load import LoadSampler, read_cpu_jiffies, read_load
from workbench.report.host import disturbance_warnings

CORES = len(os.sched_getaffinity(0))


def busy(seconds: float, tag: str) -> subprocess.Popen[bytes]:
    """A Python busy loop that stops by itself after `seconds`; `tag` shows in its
    command line, so the sampler's label names it."""
    code = f"import time\nt = time.time() + {seconds}\nwhile time.time() < t: pass\n"
    return subprocess.Popen([sys.executable, "-c", code, tag])


@pytest.fixture
def loops() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def test_busy_loops_outside_the_stacks_disturb_the_run(
        loops: list[subprocess.Popen[bytes]]) -> None:
    stack = busy(8, "the-stack-engine")  # stands in for a stack's engine: excluded
    loops.append(stack)
    # Every process that used CPU is listed (a shared machine may have busier ones).
    sampler = LoadSampler(lambda: [stack.pid], interval_s=0.25, top=1000).start()
    # More busy threads than cores: runnable > cores in nearly every sample.
    loops += [busy(5, "intruder-loop") for _ in range(CORES + 1)]
    time.sleep(4)
    summary = sampler.stop()
    names = [i["name"] for i in summary.intruders]
    assert any("intruder-loop" in n for n in names), names
    assert not any("the-stack-engine" in n for n in names), names
    assert summary.load_over_cores_share > 0.5
    assert summary.outside_cores_mean > 0.5
    assert summary.samples >= 8 and summary.sampler_s < summary.duration_s
    [warning] = disturbance_warnings(summary.to_dict())
    # The busiest three are named (on a shared machine others may outrank the loops).
    assert "the run was disturbed" in warning
    assert all(i["name"] in warning for i in summary.intruders[:3])
    assert "the-stack-engine" not in warning


def test_the_stack_and_its_children_are_not_intruders(
        loops: list[subprocess.Popen[bytes]]) -> None:
    # The stack's root is a process whose child is the busy loop (as an engine's workers).
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time\\nt = time.time() + 4\\nwhile time.time() < t: pass\\n', "
            "'engine-worker'])")
    root = subprocess.Popen([sys.executable, "-c", code, "engine-root"])
    loops.append(root)
    sampler = LoadSampler([root.pid], interval_s=0.25, top=1000).start()
    time.sleep(3)
    summary = sampler.stop()
    assert not any("engine-worker" in i["name"] or "engine-root" in i["name"]
                   for i in summary.intruders), summary.intruders


def test_the_sampler_is_bounded() -> None:
    sampler = LoadSampler(interval_s=0.02, max_samples=8, max_intruders=3).start()
    time.sleep(1.0)
    summary = sampler.stop()
    assert len(summary.series) <= 8 + 1
    assert summary.samples > 8 and summary.interval_s > 0.02  # halved, then slowed down
    assert len(sampler._tally) <= 3


def test_proc_readers() -> None:
    assert read_load("3.00 1.72 0.73 4/170 9872\n") == (3.0, 3)
    stat = "cpu  36345 0 6279 12116 124 0 91 160 0 0\ncpu0 1 2 3\n"
    assert read_cpu_jiffies(stat) == (36345 + 6279 + 12116 + 124 + 91 + 160, 160)
    total, steal = read_cpu_jiffies()
    assert total > 0 and 0 <= steal <= total
