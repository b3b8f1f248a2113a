"""Cross-check against vLLM's own `vllm bench serve`, run from the vLLM engine venv.

The `vllm` console script is broken on this install (it looks up the version of a package
named `vllm`), so the benchmark is started through its module API: `add_cli_args` +
`main` of `vllm.benchmarks.serve`, which is exactly what `vllm bench serve` calls (plus a
pandas-free reader for its custom dataset, see `_ENTRY`).
Both tools are given the same prompt file (`--dataset-name custom`, no shuffle, no chat
template applied client-side), the same output length with `--ignore-eos`, the same
concurrency and the same warm-up, against the same server.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from workbench.load.metrics import PointSummary

# vLLM's CustomDataset reads JSONL through pandas, which the vLLM CPU venv does not have;
# the shim reads the same file with `json` and keeps vLLM's own shuffle rule (disabled here).
_ENTRY = (
    "import json, random, sys\n"
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
    "main(parser.parse_args(sys.argv[1:]))\n"
)


class VllmBenchError(RuntimeError):
    """`vllm bench serve` failed; the message carries the end of its output."""


def command(
    python: Path, *, base_url: str, model: str, tokenizer: Path, dataset: Path, num_prompts: int,
    concurrency: int, output_len: int, result_dir: Path, warmups: int = 2,
    extra_body: dict[str, Any] | None = None,
) -> list[str]:
    """The `vllm bench serve` command line (through its module API)."""
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
        "--save-result", "--result-dir", str(result_dir), "--result-filename", "result.json",
        *(["--extra-body", json.dumps(extra_body)] if extra_body else []),
    ]


#: What `vllm bench serve` prints just before its measured requests start.
MAIN_RUN_MARKER = "Starting main benchmark run"


def _env(state_dir: Path) -> dict[str, str]:
    cache = state_dir / "vllm-bench"
    cache.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1", "VLLM_CACHE_ROOT": str(cache),
        # Offline benchmark of a local server: nothing may be fetched.
        "HF_HOME": str(cache / "hf"), "PYTHONUNBUFFERED": "1",
    }


class Running:
    """`vllm bench serve` started in the background, so another client can load the same
    server at the same moment (both then see the same machine state)."""

    def __init__(self, cmd: list[str], result_dir: Path, *, state_dir: Path) -> None:
        self.result_dir = result_dir
        self.log = result_dir / "vllm-bench.log"
        self._log = self.log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=_env(state_dir), text=True)

    def wait_main_run(self) -> None:
        """Block until its measured requests start (its warm-up is done)."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
            if MAIN_RUN_MARKER in line:
                self._log.flush()
                return
        raise VllmBenchError(f"vllm bench serve ended before its main run:\n{self._tail()}")

    def result(self, timeout_s: float = 1800) -> dict[str, Any]:
        """Wait for it to finish; its result JSON."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
        code = self.proc.wait(timeout=timeout_s)
        self._log.close()
        path = self.result_dir / "result.json"
        if code != 0 or not path.is_file():
            raise VllmBenchError(f"vllm bench serve failed ({code}):\n{self._tail()}")
        result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return result

    def _tail(self) -> str:
        self._log.flush()
        return self.log.read_text(encoding="utf-8")[-3000:]


def run(
    cmd: list[str], result_dir: Path, *, state_dir: Path, timeout_s: float = 900
) -> dict[str, Any]:
    """Run `vllm bench serve` to the end; returns its result JSON."""
    env = _env(state_dir)
    with tempfile.TemporaryFile() as log:
        try:
            done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise VllmBenchError(f"vllm bench serve did not finish in {timeout_s:g}s") from exc
        log.seek(0)
        tail = log.read()[-3000:].decode("utf-8", "replace")
    path = result_dir / "result.json"
    if done.returncode != 0 or not path.is_file():
        raise VllmBenchError(f"vllm bench serve failed ({done.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


class Agreement(BaseModel):
    """One metric measured by both tools."""

    metric: str
    ours: float
    vllm: float

    @property
    def diff_pct(self) -> float:
        """(ours - vllm) / vllm, in percent."""
        return (self.ours - self.vllm) / self.vllm * 100.0 if self.vllm else float("nan")


def agreement(ours: PointSummary, theirs: dict[str, Any]) -> list[Agreement]:
    """Side-by-side numbers: TTFT, TPOT, ITL, E2E (mean/median) and throughputs."""
    rows = []
    for metric, dist, key in (("ttft", ours.ttft, "ttft"), ("tpot", ours.tpot, "tpot"),
                              ("itl", ours.itl, "itl"), ("e2e", ours.e2e, "e2el")):
        if dist is None:
            continue
        for stat, ours_value in (("mean", dist.mean), ("median", dist.p50), ("p99", dist.p99)):
            name = f"{stat}_{key}_ms"
            if isinstance(theirs.get(name), int | float):
                rows.append(Agreement(metric=f"{metric.upper()} {stat} (ms)", ours=ours_value,
                                      vllm=float(theirs[name])))
    for metric, value, key in (
        ("request throughput (req/s)", ours.request_throughput, "request_throughput"),
        ("output throughput (tok/s)", ours.output_throughput, "output_throughput"),
        ("total throughput (tok/s)", ours.total_token_throughput, "total_token_throughput"),
    ):
        if isinstance(theirs.get(key), int | float):
            rows.append(Agreement(metric=metric, ours=value, vllm=float(theirs[key])))
    return rows
