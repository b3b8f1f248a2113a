"""Cross-check against vLLM's own `vllm bench serve`, run from the vLLM engine venv.

The `vllm` console script is broken on this install (it looks up the version of a package
named `vllm`), so the benchmark is started through its module API: `add_cli_args` +
`main` of `vllm.benchmarks.serve`, which is exactly what `vllm bench serve` calls (plus a
pandas-free reader for its custom dataset, see `_ENTRY`). Importing vLLM takes 20-30 s
here, so one process runs several rounds: `BenchRounds` hands it one result file name per
round on stdin and it runs `main` once for each.
Both tools are given the same prompt file (`--dataset-name custom`, no shuffle, no chat
template applied client-side), the same output length with `--ignore-eos`, the same
concurrency and the same warm-up, against the same server.

How vLLM's client measures (vllm/benchmarks/lib/endpoint_request_func.py, openai-chat),
and how ours differs:
  * the request start is stamped just before the POST (connection set-up included): same;
  * TTFT is stamped at the first SSE message whose `choices` is non-empty, even when its
    delta carries no content (llama.cpp's and vLLM's role chunk `{"role": "assistant",
    "content": null}`); ours at the first chunk WITH content (docs/architecture.md). Both servers
    send the role chunk together with the first token (llama.cpp in the same write), so
    the two rules give the same time there; on a server that sent the role chunk early,
    vLLM's tool would report a TTFT that is not a token's;
  * its E2E ends at the last message with `choices`, i.e. the `finish_reason` chunk with
    an empty delta that follows the last token (~0.2 ms later on llama.cpp); ours at the
    last content chunk;
  * so its ITL list holds two extra near-zero gaps per request (role -> first token, last
    token -> finish chunk), which pulls its ITL mean and median down: ITL is shown, but
    is not one of the metrics that must agree;
  * TPOT = (E2E - TTFT) / (N - 1) per request, then mean/median/p99 over the successful
    requests (not token-weighted), with N = `usage.completion_tokens` (stream_options
    include_usage): same. Without usage vLLM re-tokenizes the generated text and ours
    counts content chunks; llama.cpp always sends usage, and with `--ignore-eos` every
    request of both tools has exactly the output length asked (the bench checks it);
  * throughput = completed requests (their N) / duration; vLLM's duration runs from before
    its first request to after the last one returned, ours from the first send to the last
    request's end: the same span within a few ms;
  * `replay` runs our metrics module on vLLM's own per-request stamps: it reproduces each of
    vLLM's numbers, so the arithmetic is the same and only the stamping can differ;
  * it keeps connections alive and reuses them (aiohttp); llama-server closes every
    connection after a streamed answer, so a reused one fails with "Server disconnected"
    and vLLM's tool counts that request as failed. It is therefore sent
    `Connection: close` (`--header`), which costs it nothing it would not pay anyway: a
    fresh loopback connection per request, as ours opens one.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import queue
import statistics
import subprocess
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from workbench.load.metrics import PointSummary, summarize
from workbench.records.responses import LoadRequestRecord, PointSpec, RequestTiming

#: What the round runner prints when it is ready for a round, and after each round.
READY_MARKER = "WB-VLLM-BENCH-READY"
ROUND_MARKER = "WB-VLLM-BENCH-ROUND-DONE"

# vLLM's CustomDataset reads JSONL through pandas, which the vLLM CPU venv does not have;
# the shim reads the same file with `json` and keeps vLLM's own shuffle rule (disabled here).
# Then one `main(args)` per line read on stdin (the line is the round's result file name).
_ENTRY = (
    "import copy, json, random, sys\n"
    "from vllm.benchmarks.datasets import datasets as _d\n"
    "def _load(self):\n"
    "    with open(self.dataset_path, encoding='utf-8') as f:\n"
    "        self.data = [json.loads(line) for line in f if line.strip()]\n"
    "    random.seed(self.random_seed)\n"
    "    if not getattr(self, 'disable_shuffle', False):\n"
    "        random.shuffle(self.data)\n"
    "_d.CustomDataset.load_data = _load\n"
    "from vllm.benchmarks.serve import add_cli_args, main\n"
    "from vllm.utils.argparse_utils import FlexibleArgumentParser\n"
    "parser = FlexibleArgumentParser()\n"
    "add_cli_args(parser)\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    f"print({READY_MARKER!r}, flush=True)\n"
    "for line in sys.stdin:\n"
    "    if not line.strip():\n"
    "        break\n"
    "    run = copy.deepcopy(args)\n"  # main() edits its args (self_timed, header)
    "    run.result_filename = line.strip()\n"
    "    main(run)\n"
    f"    print({ROUND_MARKER!r}, run.result_filename, flush=True)\n"
)


class VllmBenchError(RuntimeError):
    """`vllm bench serve` failed; the message carries the end of its output."""


def command(
    python: Path, *, base_url: str, model: str, tokenizer: Path, dataset: Path, num_prompts: int,
    concurrency: int, output_len: int, result_dir: Path, warmups: int = 2,
    extra_body: dict[str, Any] | None = None,
) -> list[str]:
    """The `vllm bench serve` command line (through its module API; rounds on stdin)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    return [
        str(python), "-c", _ENTRY,
        "--backend", "openai-chat", "--base-url", root, "--endpoint", "/v1/chat/completions",
        "--model", model, "--tokenizer", str(tokenizer),
        "--dataset-name", "custom", "--dataset-path", str(dataset), "--disable-shuffle",
        "--skip-chat-template", "--custom-output-len", str(output_len),
        "--num-prompts", str(num_prompts), "--max-concurrency", str(concurrency),
        "--request-rate", "inf", "--ignore-eos", "--temperature", "0",
        "--num-warmups", str(warmups), "--disable-tqdm",
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,95,99",
        "--save-result", "--save-detailed", "--result-dir", str(result_dir),
        "--result-filename", "result.json", "--header", "Connection=close",
        *(["--extra-body", json.dumps(extra_body)] if extra_body else []),
    ]


def _env(state_dir: Path) -> dict[str, str]:
    cache = state_dir / "vllm-bench"
    cache.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1", "VLLM_CACHE_ROOT": str(cache),
        # Offline benchmark of a local server: nothing may be fetched.
        "HF_HOME": str(cache / "hf"), "PYTHONUNBUFFERED": "1",
    }


class BenchRounds:
    """`vllm bench serve` in one long-lived process that runs one benchmark per `run_round`
    (so rounds of it can alternate with rounds of another client, each alone on the server)."""

    def __init__(self, cmd: list[str], result_dir: Path, *, state_dir: Path) -> None:
        self.result_dir = result_dir
        self.log = result_dir / "vllm-bench.log"
        self._log = self.log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=_env(state_dir), text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_for(self, marker: str, timeout_s: float) -> None:
        while True:
            try:
                line = self._lines.get(timeout=timeout_s)
            except queue.Empty:
                raise VllmBenchError(f"vllm bench serve silent for {timeout_s:g}s:\n"
                                     f"{self._tail()}") from None
            if line is None:
                raise VllmBenchError(f"vllm bench serve ended ({self.proc.wait()}):\n"
                                     f"{self._tail()}")
            if line.startswith(marker):
                return

    def wait_ready(self, timeout_s: float = 300) -> None:
        """Block until vLLM is imported and the arguments parsed."""
        self._wait_for(READY_MARKER, timeout_s)

    def run_round(self, name: str, timeout_s: float = 900) -> dict[str, Any]:
        """Run one benchmark (warm-up included) to its end; its result JSON."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{name}\n")
        self.proc.stdin.flush()
        self._wait_for(ROUND_MARKER, timeout_s)
        result: dict[str, Any] = json.loads((self.result_dir / name).read_text("utf-8"))
        return result

    def close(self) -> None:
        """Let it exit (killed if it does not within 10 s)."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()

    def _tail(self) -> str:
        self._log.flush()
        return self.log.read_text(encoding="utf-8")[-3000:]


class CrossCheckRow(BaseModel):
    """One metric measured by both tools."""

    metric: str
    ours: float
    vllm: float

    @property
    def diff_pct(self) -> float:
        """(ours - vllm) / vllm, in percent."""
        return (self.ours - self.vllm) / self.vllm * 100.0 if self.vllm else float("nan")


def crosscheck_rows(ours: PointSummary, theirs: dict[str, Any]) -> list[CrossCheckRow]:
    """Side-by-side numbers: TTFT, TPOT, ITL, E2E (mean/median) and throughputs."""
    rows = []
    for metric, dist, key in (("ttft", ours.ttft, "ttft"), ("tpot", ours.tpot, "tpot"),
                              ("itl", ours.itl, "itl"), ("e2e", ours.e2e, "e2el")):
        if dist is None:
            continue
        for stat, ours_s in (("mean", dist.mean), ("median", dist.p50), ("p99", dist.p99)):
            name = f"{stat}_{key}_ms"
            if ours_s is not None and isinstance(theirs.get(name), int | float):
                # vLLM's result file is in ms; our summaries are in seconds.
                rows.append(CrossCheckRow(metric=f"{metric.upper()} {stat} (ms)",
                                      ours=ours_s * 1000.0, vllm=float(theirs[name])))
    for metric, value, key in (
        ("request throughput (req/s)", ours.request_throughput, "request_throughput"),
        ("output throughput (tok/s)", ours.output_throughput, "output_throughput"),
        ("total throughput (tok/s)", ours.total_token_throughput, "total_token_throughput"),
    ):
        if isinstance(theirs.get(key), int | float):
            rows.append(CrossCheckRow(metric=metric, ours=value, vllm=float(theirs[key])))
    return rows


class Combined(BaseModel):
    """One metric over several round pairs: round i of ours and round i of vLLM ran back to
    back, each alone on the server."""

    metric: str
    ours: list[float]
    vllm: list[float]

    @property
    def ours_median(self) -> float:
        """Median of our per-round values."""
        return statistics.median(self.ours)

    @property
    def vllm_median(self) -> float:
        """Median of vLLM's per-round values."""
        return statistics.median(self.vllm)

    @property
    def round_diffs_pct(self) -> list[float]:
        """Round i of ours against round i of vLLM, in percent."""
        return [(o - v) / v * 100.0 if v else float("nan")
                for o, v in zip(self.ours, self.vllm, strict=True)]

    @property
    def diff_pct(self) -> float:
        """Median of the paired per-round differences, in percent: pairing cancels the
        shared machine's slow drift, the median its short bursts (one slow round)."""
        return statistics.median(self.round_diffs_pct)

    def diff_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Distribution-free interval for the median paired difference (`median_interval`)."""
        return median_interval(self.round_diffs_pct, confidence)


def combine(rounds: list[list[CrossCheckRow]]) -> list[Combined]:
    """Per-metric values over rounds (`crosscheck_rows` of each round pair); metrics missing from
    any round are left out."""
    if not rounds:
        return []
    names = [row.metric for row in rounds[0]]
    by_round = [{row.metric: row for row in r} for r in rounds]
    return [
        Combined(metric=name, ours=[r[name].ours for r in by_round],
                 vllm=[r[name].vllm for r in by_round])
        for name in names if all(name in r for r in by_round)
    ]


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """The order-statistic interval for a median: [x_(k), x_(n+1-k)] with the largest k whose
    binomial coverage 1 - 2 P(Bin(n, 1/2) < k) is still >= `confidence` (no assumption on
    the distribution of the round diffs). Too few values for that coverage: (-inf, inf).
    With 6 round pairs the interval is [min, max] at 96.9%."""
    xs = sorted(values)
    n = len(xs)
    k = 0
    while k + 1 <= n // 2:
        below = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n  # P(Bin < k + 1)
        if 1.0 - 2.0 * below < confidence:
            break
        k += 1
    return (xs[k - 1], xs[n - k]) if k else (-math.inf, math.inf)


def replay_records(theirs: dict[str, Any]) -> list[LoadRequestRecord]:
    """vLLM's own per-request stamps (its `--save-detailed` result) as our request records.

    vLLM stamps every SSE message with `choices` (the role-only chunk, each token, the
    `finish_reason` chunk), so timings built from its stamps carry its definitions: TTFT at
    its first message, E2E (`latencies`) at its last, ITL its gaps. `metrics.summarize` on
    these records must reproduce vLLM's own numbers: that checks our arithmetic (TPOT per
    request, then the mean over requests; N from usage; numpy percentiles; only successful
    requests; throughput over vLLM's duration) apart from how each client stamps."""
    records = []
    rows = zip(theirs["start_times"], theirs["ttfts"], theirs["itls"], theirs["latencies"],
               theirs["input_lens"], theirs["output_lens"], theirs["errors"], strict=True)
    for i, (start, ttft, itl, latency, prompt_len, output_len, error) in enumerate(rows):
        ok = not error
        times = list(itertools.accumulate(itl, initial=start + ttft)) if ok else []
        timing = RequestTiming(request_start=start, first_token=times[0] if ok else None,
                               last_token=start + latency if ok else None,
                               request_end=start + latency, token_times=times,
                               started_at_utc="")
        records.append(LoadRequestRecord(
            index=i, prompt_id=f"vllm-{i}", due=start, ready=start,
            status="ok" if ok else "error", error=error or None, timing=timing,
            prompt_tokens=prompt_len, completion_tokens=output_len if ok else None,
            tokens_from="usage" if ok else "none"))
    return records


def replay(theirs: dict[str, Any], spec: PointSpec) -> PointSummary:
    """Our metrics module's numbers computed from vLLM's stamps and vLLM's duration."""
    return summarize(spec, replay_records(theirs), float(theirs["duration"]))


def edge_gaps_ms(theirs: dict[str, Any]) -> tuple[float, float]:
    """Largest first and last ITL entry of vLLM's successful requests, in ms: the gap from
    its role-only first message to the first token, and from the last token to the
    `finish_reason` message. Near zero means the server wrote each pair together, so vLLM's
    TTFT and E2E stamps are the same instants as ours (first/last content chunk)."""
    firsts = [itl[0] for itl, err in zip(theirs["itls"], theirs["errors"], strict=True)
              if itl and not err]
    lasts = [itl[-1] for itl, err in zip(theirs["itls"], theirs["errors"], strict=True)
             if itl and not err]
    return (max(firsts, default=math.nan) * 1000.0, max(lasts, default=math.nan) * 1000.0)
