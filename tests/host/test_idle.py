"""The idle meter on real processes: an idle stack that burns CPU while the other answers
is charged for it per answer; a quiet one is not; the active stack is never charged."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from workbench.host.idle import IdleMeter, merge
from workbench.report.host import idle_warnings


@pytest.fixture
def procs() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    busy = "import time\nt = time.time() + 6\nwhile time.time() < t: pass\n"
    running = {"noisy": subprocess.Popen([sys.executable, "-c", busy]),
               "quiet": subprocess.Popen([sys.executable, "-c", "import time; time.sleep(6)"])}
    yield running
    for p in running.values():
        p.kill()
        p.wait()


def test_idle_cpu_is_charged_to_the_other_stacks_answers(
        procs: dict[str, subprocess.Popen[bytes]]) -> None:
    meter = IdleMeter({name: [p.pid] for name, p in procs.items()})
    # Phase 1: "quiet" answers 1 question while "noisy" is idle and spins.
    meter.before_phase({"quiet"})
    time.sleep(1.5)
    meter.after_phase({"quiet"}, 1)
    # Phase 2: "noisy" answers 2; its own CPU is not idle CPU.
    meter.before_phase({"noisy"})
    time.sleep(1.0)
    meter.after_phase({"noisy"}, 2)
    rec = meter.record()
    assert rec["noisy"]["others_answers"] == 1 and rec["quiet"]["others_answers"] == 2
    assert rec["noisy"]["cpu_s"] > 0.1  # it spun (a share of a core, even on a busy machine)
    # Only phase 1 was charged to "noisy", not its own phase 2 (and phase 2 to "quiet").
    # (Charging both phases would give 2.5 s or more; reading /proc under load adds a little.)
    assert 1.4 <= rec["noisy"]["idle_s"] < 2.4
    assert 0.9 <= rec["quiet"]["idle_s"] < 2.4
    assert rec["noisy"]["cpu_s_per_other_answer"] == pytest.approx(rec["noisy"]["cpu_s"],
                                                                  abs=1e-3)
    assert rec["quiet"]["cpu_s"] < 0.05
    [warning] = idle_warnings(rec)
    assert warning.startswith("idle stack noisy used") and "resources.cpuset" in warning


def test_a_resumed_run_adds_its_sessions() -> None:
    first = {"a": {"cpu_s": 1.0, "idle_s": 10.0, "others_answers": 10}}
    second = {"a": {"cpu_s": 3.0, "idle_s": 10.0, "others_answers": 10},
              "b": {"cpu_s": 0.0, "idle_s": 5.0, "others_answers": 0}}
    merged = merge(merge(None, first), second)
    assert merged["a"] == {"cpu_s": 4.0, "idle_s": 20.0, "others_answers": 20,
                           "cpu_s_per_other_answer": 0.2, "cores_while_idle": 0.2}
    assert merged["b"]["cpu_s_per_other_answer"] is None
    assert idle_warnings(merged) == [idle_warnings({"a": merged["a"]})[0]]


def test_a_stack_without_processes_is_not_metered() -> None:
    meter = IdleMeter({"remote": []})
    meter.before_phase({"other"})
    meter.after_phase({"other"}, 1)
    assert meter.record() == {}
