"""Load generator benchmark (`make bench`): is `workbench bench` measuring right, and fast?

1. Client capacity: requests/s one process sustains against a trivial local endpoint
   (`workbench.load.trivial_server`: no model, fixed 3-chunk stream; client numbers only),
   and the p99 send lag at a constant 200 requests/s.
2. Cross-check: one sweep point measured by `workbench bench` and by vLLM's own
   `vllm bench serve` against the same llama.cpp server (SmolLM2 GGUF), with the same
   prompt file, output length (`--ignore-eos`), concurrency and warm-up.
   Target: within 5% on TTFT, TPOT and throughput.

   The tools take turns, each ALONE on the server, in short alternating rounds
   (VOOV OVVO VOOV, V = vLLM, O = ours: a linear drift of this shared machine weighs on
   both alike). Each round pair (back to back) gives one difference per metric and the
   median of those is reported (the median drops a round that caught another process's
   CPU burst).
   Running both at the same time (the previous design) does not measure the clients:
   with equal-length requests the server decodes all sequences in one batch, so every
   request of a wave ends in the same step and both tools send their next requests
   within a few ms of each other. llama.cpp prefills whichever arrived first in one
   batch and the other's in the next, so the first tool gets a TTFT one prefill shorter
   (measured: 517 vs 1061 ms in the same wave); its sequences then finish one step
   earlier, so it wins the next race too. The server, not the client, split TTFT against
   TPOT between the tools (E2E agreed within 1%). Alone, each tool's requests see the same
   server state, and what differs is only what each client does and stamps. (Even alone,
   a tool's c concurrent requests race the same way among themselves: the two prefills
   of a wave land in one batch or in two, so TTFT is bimodal and one round is noisy;
   hence several rounds and medians.) The previous design also lost ~1 in 6 of vLLM's
   requests to "Server disconnected" (see `workbench.load.vllm_bench`), which counted
   against its throughput.
   One vLLM process runs all its rounds (its import alone takes 20-30 s here).
   The point is concurrency 1, 16 requests a round. At concurrency 2 the prefill race
   above happens inside each tool's own rounds, and which way it goes depends on how
   many microseconds apart a client sends its two requests: on a quiet machine E2E and
   throughput agreed within 3.5% but the same time split differently into TTFT (+9%) and
   TPOT (-14%) from run to run. At concurrency 1 each request has the server to itself,
   so TTFT is one prefill and TPOT the decode steps, which is what the clients stamp.
   The bench also prints each tool's own CPU share per round: vLLM's client uses ~5-12%
   of a core against ours' ~1.5%. With llama-server on both cores (-t 2) that CPU came out
   of the server's decode, and vLLM's requests ran ~5% slower than ours in most round
   pairs; the server therefore runs one thread (-t 1), leaving the second core to the
   clients, so neither tool's own cost moves the server it measures.

Tiny (`--tiny`, the smoke test): a small capacity measurement (200 requests, one 100-request
lag run) and no cross-check (`vllm bench serve` alone takes 20-30 s to import).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from workbench.load.capacity import measure_client_capacity
from workbench.load.client import EngineTarget
from workbench.load.driver import run_point
from workbench.load.metrics import PointSummary, summarize
from workbench.load.prompts import LoadPrompt, synthetic_prompts, write_jsonl
from workbench.load.vllm_bench import BenchRounds, VllmBenchError, agreement, combine, command
from workbench.records.responses import PointSpec
from workbench.settings import get_settings
from workbench.stacks.conversion import ensure_converted
from workbench.stacks.engines.llamacpp import local_llama_server
from workbench.stacks.models import resolve_gguf
from workbench.stacks.process import free_port
from workbench.stacks.recipe import PACKAGED_GGUF

MODEL = "smollm2-135m-instruct"
CONCURRENCY = 1
REQUESTS = 16
#: The cross-check under load (`python -m workbench.bench.load --concurrency 16`): four
#: waves of 16 per round, with as many llama.cpp slots as requests in flight so the server
#: batches all of them (the matrix load pass's regime).
LOADED_CONCURRENCY, LOADED_REQUESTS = 16, 64
PROMPT_WORDS = 40
OUTPUT_LEN = 24
WARMUP = 2


@contextlib.contextmanager
def llama_server(log: Path, slots: int = 4) -> Iterator[str]:
    """A llama.cpp server on a free loopback port (as tests/conftest.py starts it)."""
    with local_llama_server(log, free_port(), context=2048, slots=slots, threads=1,
                            alias=MODEL) as server:
        yield server.url


#: llama.cpp reuses a slot's cached prompt prefix; both tools send the same prompts, so
#: caching would favour whichever runs second. Both ask the server not to cache.
EXTRA_BODY = {"cache_prompt": False}
#: Rounds of each tool (V = vllm bench serve, O = ours) in ABBA BAAB ABBA order; pairs are
#: (1st V, 1st O), (2nd V, 2nd O), ..., each pair back to back.
ORDER = "VOOVOVVOVOOV"


async def _ours(url: str, prompts: list[LoadPrompt], concurrency: int = CONCURRENCY,
                requests: int = REQUESTS) -> tuple[PointSummary, list[str], float]:
    """One round of ours: warm-up as vLLM's tool does it (WARMUP requests, at most
    CONCURRENCY at once), then the measured point. Returns the summary, failures and the
    mean number of inter-token gaps per request."""
    # vLLM's client waits up to 6 h per request; a short timeout here would turn the slowest
    # requests of a loaded machine into failures that vLLM counts as completed.
    target = EngineTarget("llamacpp", url, MODEL, ignore_eos=True, temperature=0.0,
                          extra_body=EXTRA_BODY, timeout_s=900.0)
    try:
        await run_point(target, prompts[:1],
                        PointSpec(requests=WARMUP, concurrency=concurrency))
        spec = PointSpec(requests=requests, concurrency=concurrency)
        run = await run_point(target, prompts, spec)
    finally:
        await target.aclose()
    errors = [f"#{r.index}: {r.error}" for r in run.records if r.status != "ok"]
    gaps = [max(len(r.timing.token_times) - 1, 0) for r in run.records if r.status == "ok"]
    return (summarize(spec, run.records, run.duration_s), errors,
            statistics.fmean(gaps) if gaps else 0.0)


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _vllm_gaps(theirs: dict[str, Any]) -> float:
    """Mean ITL entries per successful request in vLLM's detailed result."""
    counts = [len(itl) for itl, err in zip(theirs.get("itls", []), theirs.get("errors", []),
                                           strict=False) if not err]
    return statistics.fmean(counts) if counts else float("nan")


def _cross_check(concurrency: int = CONCURRENCY, requests: int = REQUESTS,
                 order: str = ORDER) -> None:
    slots = max(4, concurrency)
    settings = get_settings()

    python = settings.vllm_python_path
    if not python.exists():
        print(f"vllm bench serve cross-check skipped: no vLLM venv at {python} (make vllm)")
        return
    tokenizer = ensure_converted(resolve_gguf(PACKAGED_GGUF), settings)
    load_before = os.getloadavg()[0]
    pairs: dict[str, list[Any]] = {"ours": [], "vllm": []}
    errors: list[str] = []
    gaps: dict[str, list[float]] = {"ours": [], "vllm": []}
    cpu = {tool: {"ours": 0.0, "vllm": 0.0} for tool in "OV"}  # mean share of a core
    with tempfile.TemporaryDirectory(prefix="wb-load-") as tmp:
        folder = Path(tmp)
        prompts = synthetic_prompts(requests, PROMPT_WORDS, output_len=OUTPUT_LEN, seed=7)
        dataset = write_jsonl(prompts, folder / "prompts.jsonl")
        with llama_server(folder / "llama.log", slots) as url:
            cmd = command(python, base_url=url, model=MODEL, tokenizer=tokenizer,
                          dataset=dataset, num_prompts=requests, concurrency=concurrency,
                          output_len=OUTPUT_LEN, result_dir=folder, warmups=WARMUP,
                          extra_body=EXTRA_BODY)
            vllm = BenchRounds(cmd, folder, state_dir=settings.state_dir)
            try:
                vllm.wait_ready()
                vllm_proc = psutil.Process(vllm.proc.pid)
                for i, tool in enumerate(order):
                    # CPU seconds of each tool's process during each round: on 2 cores a
                    # client (or an idle tool) that burns CPU slows the server it measures.
                    before = (time.process_time(), _cpu(vllm_proc), time.perf_counter())
                    if tool == "V":
                        theirs = vllm.run_round(f"round-{i}.json")
                        pairs["vllm"].append(theirs)
                        gaps["vllm"].append(_vllm_gaps(theirs))
                        errors += [f"vllm round {i}: {e.strip().splitlines()[-1]}"
                                   for e in theirs.get("errors", []) if e]
                    else:
                        ours, failed, ours_gaps = asyncio.run(
                            _ours(url, prompts, concurrency, requests))
                        pairs["ours"].append(ours)
                        gaps["ours"].append(ours_gaps)
                        errors += [f"ours round {i}: {e}" for e in failed]
                    wall = time.perf_counter() - before[2]
                    cpu[tool]["ours"] += (time.process_time() - before[0]) / wall / len(order) * 2
                    cpu[tool]["vllm"] += (_cpu(vllm_proc) - before[1]) / wall / len(order) * 2
            except VllmBenchError as exc:
                print(f"vllm bench serve failed: {exc}")
                return
            finally:
                vllm.close()
    rows = combine([agreement(o, v) for o, v in zip(pairs["ours"], pairs["vllm"], strict=True)])
    first: PointSummary = pairs["ours"][0]
    prompt_tokens = (first.total_token_throughput - first.output_throughput) / max(
        first.request_throughput, 1e-9)
    n = len(pairs["ours"])
    print(f"\ncross-check on llama.cpp ({MODEL}, -np {slots}): c={concurrency}, {requests} "
          f"requests per round, the same prompt file (~{prompt_tokens:.0f} prompt tokens), "
          f"{OUTPUT_LEN} output tokens (ignore_eos), temperature 0, no prompt cache; "
          f"{n} rounds per tool, each alone on the server, alternating "
          f"{order} (O = ours, V = vllm); values are medians over rounds, diff the median of "
          "the paired per-round diffs")
    print(f"{'metric':<30}{'ours':>10}{'vllm':>10}{'diff':>9}   per-round diffs")
    for row in rows:
        # The target is on vLLM's headline numbers (mean TTFT, mean TPOT, throughput); the
        # medians and p99s are printed too but, per round of 16, swing more than 5% alone.
        must = row.metric in ("TTFT mean (ms)", "TPOT mean (ms)") or "throughput" in row.metric
        flag = ("  (> 5%)" if abs(row.diff_pct) > 5 else "  (within 5%)") if must else ""
        per_round = " ".join(f"{d:+.1f}" for d in row.round_diffs_pct)
        print(f"{row.metric:<30}{row.ours_median:>10.2f}{row.vllm_median:>10.2f}"
              f"{row.diff_pct:>+8.1f}%   [{per_round}]{flag}")
    completed_v = sum(int(v.get("completed") or 0) for v in pairs["vllm"])
    completed_o = sum(o.completed for o in pairs["ours"])
    print(f"completed: ours {completed_o}/{n * requests}, vllm {completed_v}/{n * requests}; "
          f"inter-token gaps per request: ours {statistics.fmean(gaps['ours']):.1f}, vllm "
          f"{statistics.fmean(gaps['vllm']):.1f} (vLLM also counts the role-only first chunk "
          "and the finish_reason chunk, so its ITL is not compared; see vllm_bench.py)")
    print("client CPU, mean share of one core per round: "
          f"ours' rounds: ours {cpu['O']['ours']:.1%}, vllm (idle) {cpu['O']['vllm']:.1%}; "
          f"vllm's rounds: vllm {cpu['V']['vllm']:.1%}, ours (idle) {cpu['V']['ours']:.1%}")
    for line in errors[:5]:
        print(f"  failed: {line[:300]}")
    spread = max((max(r.round_diffs_pct) - min(r.round_diffs_pct) for r in rows), default=0.0)
    print(f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"largest per-round spread {spread:.0f} points"
          + (" -- the machine's speed changed during the rounds (other processes): rerun "
             "on a quieter machine before reading the diffs" if spread > 40 else ""))


def run(tiny: bool = False) -> None:
    """Print the client's capacity and the cross-check against `vllm bench serve`."""
    cap = (measure_client_capacity(requests=200, concurrency=8, lag_requests=100, lag_runs=1)
           if tiny else measure_client_capacity())
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
    if tiny:
        print("vllm bench serve cross-check skipped: tiny run")
        return
    _cross_check()


if __name__ == "__main__":
    # `python -m workbench.bench.load --concurrency 16`: only the cross-check, under load.
    import argparse

    parser = argparse.ArgumentParser(description="Cross-check against vllm bench serve.")
    parser.add_argument("--concurrency", type=int, default=LOADED_CONCURRENCY)
    parser.add_argument("--requests", type=int, default=LOADED_REQUESTS)
    parser.add_argument("--rounds", type=int, default=len(ORDER) // 2,
                        help="Rounds per tool (the first 2 x N of the ABBA order).")
    ns = parser.parse_args()
    _cross_check(ns.concurrency, ns.requests, ORDER[:2 * ns.rounds])
