"""The matrix's load pass end to end on a real SQLite store: levels stored as they end and
tagged with the run, read back onto the run's scorecard; bounded; a crashed level or a
cancellation (what Ctrl-C does to `asyncio.run`) keeps the quality results and the levels
measured; and one real llama.cpp level."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.load.capacity import trivial_server
from workbench.load.client import EngineTarget, Outcome
from workbench.load.prompts import LoadPrompt
from workbench.load.sweep import BenchStack
from workbench.records.manifest_parts import LoadBlock
from workbench.report.stored import scorecard_for_run
from workbench.runner.matrix_load import run_load_pass
from workbench.store.db import Store
from workbench.store.load_benches import LoadBenchStore
from workbench.store.synthetic import store_synthetic_run

STACKS = ("llamacpp-cpu", "vllm-cpu")


@pytest.fixture(scope="module")
def trivial_url() -> Iterator[str]:
    """`workbench.load.trivial_server` (fixed 3-chunk SSE stream, no model); its /v1 URL."""
    with trivial_server() as url:
        yield url


def _rules(**kw: Any) -> LoadBlock:
    return LoadBlock.model_validate(
        {"concurrency": [1, 4], "max_requests": 12, "max_level_s": 30, "max_total_s": 120,
         "warmup": 1, "slo": ["e2e.p50<=2s"], "max_error_rate": 0.05,
         "target": {"rate": 1.0, "concurrency": None}, **kw})


def _store(tmp_path: Path) -> tuple[Store, str]:
    store = Store(tmp_path / "wb.db")
    return store, store_synthetic_run(store, n_questions=12)


class _Crashing:
    """A target whose client crashes (not a failed request: an exception) after
    `ok` requests, like a load level that dies under the runner."""

    def __init__(self, inner: EngineTarget, ok: int) -> None:
        self.inner, self.ok, self.sent = inner, ok, 0
        self.name, self.metrics_url = inner.name, None

    async def send(self, prompt: LoadPrompt) -> Outcome:
        self.sent += 1
        if self.sent > self.ok:
            raise RuntimeError("the load generator crashed")
        return await self.inner.send(prompt)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _stack(name: str, url: str) -> BenchStack:
    return BenchStack(name=name, target=EngineTarget(name, url, "trivial", max_tokens=3,
                                                     metrics_url=""))


def test_load_pass_is_stored_and_read_onto_the_card(tmp_path: Path, trivial_url: str) -> None:
    store, run_id = _store(tmp_path)
    before = len(store.responses(run_id))
    said: list[str] = []
    bench_id = asyncio.run(run_load_pass(
        LoadBenchStore(store), run_id, [_stack(n, trivial_url) for n in STACKS],
        store.questions(run_id), _rules(), progress=said.append))
    loads = LoadBenchStore(store)
    assert loads.bench_for_run(run_id) == bench_id
    assert loads.bench(bench_id)["status"] == "completed"
    card = scorecard_for_run(store, run_id, semantic=False)
    assert card.load is not None and list(card.load.stacks) == list(STACKS)
    for name in STACKS:
        s = card.load.stacks[name]
        assert [lv.label for lv in s.levels] == ["c=1", "c=4"]
        assert [lv.requests for lv in s.levels] == [12, 12]  # the run's 12 questions
        assert s.holds_target is True and s.capacity_level == "c=4"
        assert card.summaries[name].load == s  # the same result on the stack's summary
    assert any("load llamacpp-cpu c=4" in line and "holds" in line for line in said)
    assert len(store.responses(run_id)) == before


def test_a_crashed_level_keeps_the_quality_results_and_earlier_levels(
        tmp_path: Path, trivial_url: str) -> None:
    store, run_id = _store(tmp_path)
    card_before = scorecard_for_run(store, run_id, semantic=False)
    inner = EngineTarget("llamacpp-cpu", trivial_url, "trivial", max_tokens=3, metrics_url="")
    # Warm-up (1) and c=1 (12) succeed; c=4 crashes.
    stack = BenchStack(name="llamacpp-cpu", target=_Crashing(inner, ok=13))
    with pytest.raises(RuntimeError, match="crashed"):
        asyncio.run(run_load_pass(LoadBenchStore(store), run_id, [stack],
                                  store.questions(run_id), _rules()))
    loads = LoadBenchStore(store)
    bench_id = loads.bench_for_run(run_id)
    assert bench_id is not None and loads.bench(bench_id)["status"] == "failed"
    card = scorecard_for_run(store, run_id, semantic=False)
    assert card.load is not None
    assert [lv.label for lv in card.load.stacks["llamacpp-cpu"].levels] == ["c=1"]
    assert card.summaries["llamacpp-cpu"].quality == card_before.summaries["llamacpp-cpu"].quality
    assert card.n_pairs == card_before.n_pairs


def test_cancelled_mid_level_stops_and_keeps_partial_results(
        tmp_path: Path, trivial_url: str) -> None:
    store, run_id = _store(tmp_path)

    async def cancel_after_first_level() -> None:
        task = asyncio.create_task(run_load_pass(
            LoadBenchStore(store), run_id, [_stack("llamacpp-cpu", trivial_url)],
            store.questions(run_id),
            # 2 rps open loop: the second level takes ~6 s; cancelled 1.5 s into the pass.
            _rules(concurrency=None, rates=[50.0, 2.0], max_requests=12)))
        await asyncio.sleep(1.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_after_first_level())
    loads = LoadBenchStore(store)
    bench_id = loads.bench_for_run(run_id)
    assert bench_id is not None and loads.bench(bench_id)["status"] == "cancelled"
    assert [p.position for p in loads.points(bench_id)] == [0]


def test_a_sure_break_stops_the_sweep_unless_told_otherwise(
        tmp_path: Path, trivial_url: str) -> None:
    store, run_id = _store(tmp_path)
    # Nothing answers on port 9 (discard, closed): every request fails at c=1.
    dead = [_stack("llamacpp-cpu", "http://127.0.0.1:9/v1")]
    loads = LoadBenchStore(store)
    first = asyncio.run(run_load_pass(loads, run_id, dead, store.questions(run_id), _rules()))
    assert [p.position for p in loads.points(first)] == [0]
    assert loads.bench(first)["result"]["stopped"]["llamacpp-cpu"].startswith(
        "stopped after c=1: errors: 12 of 12 requests failed")
    dead = [_stack("llamacpp-cpu", "http://127.0.0.1:9/v1")]
    every = asyncio.run(run_load_pass(loads, run_id, dead, store.questions(run_id),
                                      _rules(stop_early=False)))
    assert [p.position for p in loads.points(every)] == [0, 1]


def test_levels_are_bounded_in_time_and_say_so(tmp_path: Path, trivial_url: str) -> None:
    store, run_id = _store(tmp_path)
    # 1 and 2 rps for 12 requests would take 11 and 5.5 s; a level may send for 2 s only.
    said: list[str] = []
    bench_id = asyncio.run(run_load_pass(
        LoadBenchStore(store), run_id, [_stack("llamacpp-cpu", trivial_url)],
        store.questions(run_id),
        _rules(concurrency=None, rates=[1.0, 2.0], max_level_s=2.0), progress=said.append))
    loads = LoadBenchStore(store)
    points = loads.points(bench_id)
    # Both levels ran (a cut level is reported, not a reason to stop), each cut short.
    assert [p.position for p in points] == [0, 1]
    assert all(p.summary["requests"] < 12 for p in points)
    cut = loads.bench(bench_id)["result"]["stopped"]["llamacpp-cpu"]
    assert "rate=2/s poisson cut by its 2 s bound" in cut and any(cut in line for line in said)


@pytest.mark.slow
@pytest.mark.llamacpp
def test_one_real_llamacpp_level_bounded(tmp_path: Path, llama_server: str) -> None:
    store, run_id = _store(tmp_path)
    stack = BenchStack(name="llamacpp-cpu", target=EngineTarget(
        "llamacpp-cpu", llama_server, "smollm2-135m-instruct", max_tokens=8, timeout_s=60))
    bench_id = asyncio.run(run_load_pass(
        LoadBenchStore(store), run_id, [stack], store.questions(run_id)[:4],
        _rules(concurrency=[2], max_requests=4, max_level_s=60, slo=["e2e.p50<=60s"])))
    card = scorecard_for_run(store, run_id, semantic=False)
    assert card.load is not None and card.load.bench_id == bench_id
    level = card.load.stacks["llamacpp-cpu"].levels[0]
    assert level.requests == 4 and level.completed == 4 and level.output_tok_s > 0
    assert level.ttft_p95 is not None and 0 < level.ttft_p95.value < level.e2e_p95.value  # type: ignore[union-attr]
    assert level.cpu_s is None  # a bare URL has no process to read


_CTRL_C_SCRIPT = """
import signal
import sys
# Ctrl-C as in a terminal, however the suite was started: a shell that runs the suite in the
# background (`make test &`) leaves SIGINT ignored, and the child would inherit that.
signal.signal(signal.SIGINT, signal.default_int_handler)
from workbench.load.client import EngineTarget
from workbench.runner.matrix_load import load_pass_blocking
from workbench.load.sweep import BenchStack
from workbench.records.manifest_parts import LoadBlock
from workbench.store.db import Store
from workbench.store.load_benches import LoadBenchStore
from workbench.store.synthetic import store_synthetic_run

store = Store(sys.argv[1])
run_id = store_synthetic_run(store, n_questions=12)
stack = BenchStack(name="llamacpp-cpu", target=EngineTarget("llamacpp-cpu", sys.argv[2],
                                                            "trivial", max_tokens=3,
                                                            metrics_url=""))
rules = LoadBlock(rates=[50.0, 1.0], max_requests=12, warmup=1, slo=["e2e.p95<=2s"])
bench, said = load_pass_blocking(LoadBenchStore(store), run_id, [stack],
                                 store.questions(run_id), rules,
                                 progress=lambda m: print(m, flush=True))
print("RESULT", run_id, bench, said, flush=True)
"""


def test_ctrl_c_stops_the_pass_cleanly_and_keeps_what_was_measured(
        tmp_path: Path, trivial_url: str) -> None:
    """A real SIGINT to a process in the middle of its second level (1 request/s for 12
    requests): it says so, exits by itself, and the store keeps level one."""
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "wb.db"
    proc = subprocess.Popen([sys.executable, "-c", _CTRL_C_SCRIPT, str(db), trivial_url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:  # bounded: the script ends by itself within ~15 s
        lines.append(line)
        if "rate=50/s" in line and "ok" in line:
            break
        assert time.monotonic() < deadline, "".join(lines)
    time.sleep(2.0)  # inside the 1 request/s level
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    text = "".join(lines) + out
    assert proc.returncode == 0, text
    assert "stopped by Ctrl-C" in text and "RESULT" in text
    run_id = text.split("RESULT ", 1)[1].split()[0]
    store = Store(db)
    loads = LoadBenchStore(store)
    bench_id = loads.bench_for_run(run_id)
    assert bench_id is not None and loads.bench(bench_id)["status"] == "cancelled"
    assert [p.position for p in loads.points(bench_id)] == [0]
    assert len(store.responses(run_id)) == 24  # the quality results, untouched
