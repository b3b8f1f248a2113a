"""`python -m workbench.bench`: every module it lists is a benchmark, and each one runs.

The smoke test runs each benchmark's entry point as `make bench` does (`python -m
workbench.bench --tiny NAME`, its own process) on a tiny input, and checks it printed its
numbers: a broken benchmark fails the suite, not the next person's `make bench`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest

from workbench.bench.__main__ import available, main
from workbench.settings import PROJECT_ROOT

#: What each benchmark's tiny run must print (a line only a working run prints).
EXPECTED = {
    "calibrate": ["calibration: 2 simulated runs per cell", "| false winner |",
                  "| a copy changes the choice |", "CI coverage (all intervals)"],
    "engines": ["llama.cpp  cold start", "tok/s", "vLLM CPU   skipped: tiny run"],
    "evalset_build": ["smollm2-135m-instruct: ", "round 1: ", "written/min"],
    "imports": ["floors (lowest first", "imports pointing up a floor:", "import circles:",
                "imports inside functions:"],
    "index": ["shared index (index once), second run: 2 stacks"],
    "judge": ["smollm2-135m-instruct round 1: ", "answers/min"],
    "load": ["max throughput:", "send lag at"],
    "rag": ["/search at 300 chunks", "/ask service overhead"],
    "scoring": ["semantic on, cold", "the card cached", "in a fresh process, card cached"],
    "tui": ["Results with the cached card", "page-down x5"],
    "web": ["load with cached scorecard", "open one question in detail"],
}
#: Benchmarks whose tiny run starts llama.cpp (seconds, but a real engine).
ENGINE = {"engines", "evalset_build", "judge", "rag"}


def test_every_listed_benchmark_has_run_tiny_and_a_smoke_entry() -> None:
    names = available()
    assert "__main__" not in names and {"rag", "scoring", "engines"} <= set(names)
    for name in names:
        run = importlib.import_module(f"workbench.bench.{name}").run
        assert "tiny" in inspect.signature(run).parameters, name
    # A new benchmark gets a smoke entry here, or this fails.
    assert sorted(EXPECTED) == names
    assert main(["no-such-bench"]) == 2


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=[pytest.mark.slow, pytest.mark.llamacpp] if n in ENGINE else [])
    for n in sorted(EXPECTED)])
def test_each_benchmark_runs_on_a_tiny_input(name: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "-m", "workbench.bench", "--tiny", name],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    out = done.stdout
    assert done.returncode == 0, f"{out[-3000:]}\n{done.stderr[-3000:]}"
    assert f"=== bench: {name} (tiny) ===" in out
    for line in EXPECTED[name]:
        assert line in out, f"{name}: {line!r} not printed:\n{out[-3000:]}"
