"""Bench: score 10,000 stored responses (5,000 questions x 2 stacks) with `build_scorecard`,
semantic similarity on, and print the seconds. Target: under 20 s on the 2-core dev box.

The synthetic run is shaped like a real one: English and Russian questions, 10%
unanswerable, short gold answers, answers of 3-40 words that contain the gold, paraphrase
it, miss it or refuse; B gives the same answer as A on half the questions (as two engines
serving the same weights at temperature 0 often do), is ~30% faster, and fails 1% of the time;
five retrieved sources per answer, raw token timestamps for every request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from workbench.store.synthetic import synthetic_run


def _timed(label: str, fn: Callable[[], object]) -> float:
    # CPU seconds beside wall seconds: on a shared box the wall clock measures the neighbours
    # too, while CPU time (all threads) bounds what a quiet 2-core machine would take.
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<58} {wall:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
    return wall


def run() -> None:
    """Time `build_scorecard` on 10,000 synthetic responses, semantic similarity on."""
    from workbench.report import build_scorecard
    from workbench.scoring.semantic import default_embedder

    questions, records = synthetic_run()
    print(f"build_scorecard, {len(records)} responses ({len(questions)} questions x 2 stacks), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs:", flush=True)
    off = _timed("semantic off", lambda: build_scorecard(questions, records, semantic=False))
    _timed("embedding model load", lambda: default_embedder().encode(["warm-up"]))
    cold = _timed("semantic on, cold (every distinct text embedded)",
                  lambda: build_scorecard(questions, records, semantic=True))
    warm = _timed("semantic on, embeddings cached (re-scoring)",
                  lambda: build_scorecard(questions, records, semantic=True))
    print(f"  distinct texts embedded: {len(default_embedder()._cache) - 1}")
    for label, seconds in (("semantic off", off), ("semantic on, cold", cold),
                           ("semantic on, cached", warm)):
        print(f"  target < 20 s, {label}: {'met' if seconds < 20 else 'NOT met'}")
