"""Scorecards with a hand-built load pass, for the choice, gate and view tests."""

from __future__ import annotations

import pytest

from workbench.report.capacity_choice import describe
from workbench.report.load import LoadLevel, LoadRun, StackLoad
from workbench.report.models import ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run

A, B = "llamacpp-cpu", "vllm-cpu"


def level(label: str, c: int, *, correct_rps: float, cpu_s: float, holds: bool = True,
           broke: str | None = None) -> LoadLevel:
    return LoadLevel(label=label, concurrency=c, rate=None, offered_rps=float(c),
                     requests=100, completed=100, error_rate=0.0, duration_s=100.0,
                     throughput_rps=float(c), output_tok_s=10.0, goodput_rps=float(c),
                     correct_goodput_rps=correct_rps, accuracy=0.5, holds=holds, broke=broke,
                     cpu_s=cpu_s)


def stack(name: str, levels: list[LoadLevel], target_rps: float) -> StackLoad:
    held = [lv for lv in levels if lv.holds]
    top = held[-1] if held else None
    s = StackLoad(stack=name, levels=levels, capacity_rps=top.offered_rps if top else None,
                  capacity_level=top.label if top else None,
                  correct_goodput_rps=top.correct_goodput_rps if top else None,
                  broke_at=next((lv.label for lv in levels if not lv.holds), None),
                  cpu_s_per_correct=(top.cpu_s or 0) / (top.correct_goodput_rps * 100)
                  if top else None,
                  holds_target=top is not None and top.offered_rps >= target_rps)
    s.reason = describe(s, target_rps, None)
    return s


def make_card(tmp_path_factory: pytest.TempPathFactory) -> ScoreCard:
    """A synthetic 40-question run's card (no load pass)."""
    store = Store(tmp_path_factory.mktemp("load") / "wb.db")
    run_id = store_synthetic_run(store, n_questions=40)
    return scorecard_for_run(store, run_id, semantic=False)


def with_load(card: ScoreCard, b_cpu: float = 110.0) -> ScoreCard:
    """`card` with a load pass: A holds c=2 (the 2 rps target), B breaks at c=2 by
    queueing; CPU-seconds at capacity: A 200 for 100 correct, B `b_cpu` for 50."""
    queueing = "queueing (median TTFT 300 ms at c=1 -> 2.1 s): p95 E2E 9.0 s [8.1 s, 9.9 s] " \
               "misses e2e.p95<=5s (n=100)"
    stacks = {
        A: stack(A, [level("c=1", 1, correct_rps=0.5, cpu_s=100.0),
                      level("c=2", 2, correct_rps=1.0, cpu_s=200.0)], 2.0),
        B: stack(B, [level("c=1", 1, correct_rps=0.5, cpu_s=b_cpu),
                      level("c=2", 2, correct_rps=0.2, cpu_s=200.0, holds=False,
                             broke=queueing)], 2.0),
    }
    load = LoadRun(bench_id="x", status="completed", mode="concurrency", target_rps=2.0,
                   slo=["e2e.p95<=5s"], max_error_rate=0.05, min_correct_share=None,
                   stacks=stacks)
    summaries = {n: s.model_copy(update={"load": stacks[n]}) for n, s in card.summaries.items()}
    return card.model_copy(update={"load": load, "summaries": summaries})
