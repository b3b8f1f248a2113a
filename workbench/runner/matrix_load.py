"""The load pass of a matrix run (`load:` block): after the quality pass, each stack alone,
warmed up, serves the run's own RAG questions at rising levels.

Bounded everywhere: requests per level (`max_requests`), seconds per level (`max_level_s`,
in-flight requests then get their own timeout), seconds for the whole pass
(`max_total_s`); a stack's sweep stops early once a level broke for sure (errors over the
cap, or an SLO missed on its CI's lower bound), and says so. Targets are the stacks' own
RAG services (loopback unless a recipe allows its remote host,
`load.bench_stacks.running_bench_stack`).
Every level is committed as it ends, and the benchmark row is tagged with the run's id, so
Ctrl-C or a crash keeps what was measured and never touches the quality results.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

import psutil

from workbench.load.metrics import PointSummary
from workbench.load.prompts import LoadPrompt, question_prompts
from workbench.load.sweep import BenchConfig, BenchStack, measure_point, warm_up
from workbench.records.evalset import Question
from workbench.records.manifest_parts import LoadBlock
from workbench.records.responses import PointSpec
from workbench.report.capacity_choice import build_level, stop_reason
from workbench.report.constraints import parse_constraint
from workbench.report.load import LoadLevel
from workbench.runner.usage import process_tree
from workbench.store.load_benches import LoadBenchStore

Progress = Callable[[str], None]


def plan_levels(rules: LoadBlock, questions: int) -> list[PointSpec]:
    """The load points of a load block (`runner.matrix.LoadRules` as the manifest has it)."""
    cap = int(rules.max_requests or 200)
    level_s = float(rules.max_level_s or 120.0)
    fixed = rules.requests
    if rules.rates:
        out = []
        for rate in rules.rates:
            if rules.duration_s:
                n = math.ceil(float(rate) * float(rules.duration_s))
            else:
                n = int(fixed or questions)
            out.append(PointSpec(requests=max(min(n, cap), 1), rate=float(rate),
                                 burstiness=1.0, max_seconds=level_s))
        return out
    return [PointSpec(requests=max(min(int(fixed or max(questions, 2 * c)), cap), 1),
                      concurrency=int(c), max_seconds=level_s)
            for c in rules.concurrency or [1]]


def _spec_json(spec: PointSpec) -> dict[str, Any]:
    # JSON has no infinity (SQLite's json functions refuse it): an unbounded rate or a
    # constant burstiness is written "inf", which PointSpec reads back as infinity.
    return {k: "inf" if isinstance(v, float) and math.isinf(v) else v
            for k, v in spec.model_dump(mode="python").items()}


def cpu_seconds(pids: dict[str, int]) -> float | None:
    """User + system CPU seconds of the stack's process trees (None: none to read)."""
    total, seen = 0.0, False
    for pid in pids.values():
        for p in process_tree(pid):
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
                seen = True
    return total if seen else None


def rss_mb(pids: dict[str, int]) -> float | None:
    """Resident memory of the stack's process trees now (MB)."""
    total, seen = 0.0, False
    for pid in pids.values():
        for p in process_tree(pid):
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss / 2**20
                seen = True
    return total if seen else None


async def run_load_pass(
    store: LoadBenchStore, run_id: str, stacks: list[BenchStack], questions: list[Question],
    rules: LoadBlock, *, progress: Progress | None = None,
    sample_interval_s: float = 1.0,
) -> str:
    """Run the load block on every stack, one at a time; returns the benchmark id.

    `rules` is the load block as the run's manifest records it (`RunManifest.load`):
    levels, bounds, `slo`, `max_error_rate`, `min_correct_share` and `target`."""
    say = progress or (lambda _msg: None)
    prompts: list[LoadPrompt] = question_prompts(questions)
    if not prompts:
        raise ValueError("the run has no questions to send under load")
    points = plan_levels(rules, len(prompts))
    slo = [parse_constraint(t) for t in rules.slo or []]
    max_err = 0.05 if rules.max_error_rate is None else float(rules.max_error_rate)
    config = BenchConfig(points=points, warmup=2 if rules.warmup is None else rules.warmup,
                         sample_interval_s=sample_interval_s)
    mode = "rate" if rules.rates else "concurrency"
    # The benchmark keeps the block as the run's manifest recorded it (only the keys set).
    recorded = rules.model_dump(mode="json", exclude_unset=True)
    bench_id = store.create_bench(
        target="rag", stacks=[s.name for s in stacks],
        config={"run_id": run_id, "load": {**recorded, "mode": mode},
                "points": [_spec_json(p) for p in points],
                "prompts": len(prompts), "warmup": config.warmup,
                "schedule": "one stack at a time, warmed up, levels rising"})
    deadline = time.monotonic() + float(rules.max_total_s or 900.0)
    stopped: dict[str, str] = {}
    status = "failed"
    t0 = time.perf_counter()
    try:
        for stack in stacks:
            say(f"load {stack.name}: {config.warmup} warm-up request(s)")
            await warm_up(stack, prompts, config.warmup)
            levels: list[LoadLevel] = []
            for position, spec in enumerate(points):
                left = deadline - time.monotonic()
                if left < 5.0:
                    stopped[stack.name] = (f"stopped before {spec.label}: the load pass's "
                                           f"{rules.max_total_s or 900:g} s bound is spent")
                    break
                spec = spec.model_copy(update={"max_seconds": min(spec.max_seconds, left)})
                cpu0 = cpu_seconds(stack.pids)

                def add_resources(s: PointSummary, _cpu0: float | None = cpu0,
                                  _pids: dict[str, int] = stack.pids) -> PointSummary:
                    cpu1 = cpu_seconds(_pids)
                    used = cpu1 - _cpu0 if cpu1 is not None and _cpu0 is not None else None
                    return s.model_copy(update={"cpu_s": used, "peak_rss_mb": rss_mb(_pids)})

                summary = await measure_point(store, bench_id, stack, position, spec, prompts,
                                              config, t0, extra=add_resources)
                records = store.requests(bench_id, stack.name, position)
                level = build_level(spec, summary, records, slo, max_error_rate=max_err,
                                    min_correct_share=rules.min_correct_share,
                                    base=levels[0] if levels else None)
                levels.append(level)
                say(_line(stack.name, level))
                if summary.requests < spec.requests:
                    # Cut by its time bound: reported as measured; a higher level (more in
                    # flight) may still hold, so the sweep goes on unless the level broke.
                    cut = (f"{spec.label} cut by its {spec.max_seconds:.0f} s bound at "
                           f"{summary.requests} of {spec.requests} requests")
                    stopped[stack.name] = cut
                    say(f"load {stack.name}: {cut}")
                why = stop_reason(level) if rules.stop_early is not False else None
                if why is not None:
                    stopped[stack.name] = why
                    say(f"load {stack.name}: {why}")
                    break
        status = "completed"
    except BaseException as exc:
        # asyncio.run turns Ctrl-C into a cancellation of this task, then KeyboardInterrupt.
        stopped_by_user = isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
        status = "cancelled" if stopped_by_user else "failed"
        raise
    finally:
        store.finish_bench(bench_id, status, {"stopped": stopped})
        for stack in stacks:
            with contextlib.suppress(Exception):
                await stack.target.aclose()
    return bench_id


def load_pass_blocking(
    store: LoadBenchStore, run_id: str, stacks: list[BenchStack], questions: list[Question],
    rules: LoadBlock, *, progress: Progress | None = None,
) -> tuple[str | None, str]:
    """`run_load_pass` from synchronous code (the CLI), never raising for what happens
    inside it: Ctrl-C (asyncio.run cancels the pass, its in-flight requests are cancelled
    and the levels measured stay stored) or a crash. Returns (the benchmark id, None if it
    never started; what happened, in one line)."""
    try:
        bench_id = asyncio.run(run_load_pass(store, run_id, stacks, questions, rules,
                                             progress=progress))
    except KeyboardInterrupt:
        return (store.bench_for_run(run_id), "load pass stopped by Ctrl-C: the levels "
                "measured so far and the quality results are kept")
    except Exception as exc:  # a crashed level must not cost the quality results
        return (store.bench_for_run(run_id), f"load pass failed ({type(exc).__name__}: "
                f"{exc}); the quality results and the levels measured so far are kept")
    return bench_id, f"load pass stored as load benchmark {bench_id}"


def _line(name: str, lv: LoadLevel) -> str:
    # why here: report.load imports scipy (SciPy takes seconds to import)
    from workbench.report.load import estimate_text

    acc = "-" if lv.accuracy is None else f"{lv.accuracy:.0%}"
    return (f"load {name} {lv.label}: {lv.completed}/{lv.requests} ok, "
            f"{lv.throughput_rps:.2f} req/s, {lv.output_tok_s:.1f} tok/s, p95 TTFT "
            f"{estimate_text(lv.ttft_p95)}, p95 E2E {estimate_text(lv.e2e_p95)}, correct "
            f"goodput {lv.correct_goodput_rps:.2f}/s, accuracy {acc}: "
            + ("holds" if lv.holds else f"does not hold ({lv.broke})"))


__all__ = ["cpu_seconds", "load_pass_blocking", "plan_levels", "rss_mb", "run_load_pass"]
