"""A short calibration of the host: how fast llama.cpp runs the packaged SmolLM2 here
(prefill and decode tokens per second), measured once per host and cached by its
fingerprint, so a reader of any run can see how fast the machine was.

`llama-bench` (built with llama.cpp) measures it when the wheel ships it; otherwise
`llama-server` itself answers a fixed prompt a few times and its `timings` say the same.
The cache lives under the workbench cache folder (`host/calibration-<fingerprint>.json`);
a second call with the same fingerprint reads it and measures nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from workbench.host.facts import cpu_facts, host_fingerprint
from workbench.host.load import read_loadavg
from workbench.stacks.engines.base import EngineUnavailableError
from workbench.stacks.engines.llamacpp import llama_server_binary, local_llama_server
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.models import resolve_gguf
from workbench.stacks.process import LaunchError, free_port
from workbench.stacks.recipe import PACKAGED_GGUF

#: llama-bench's test sizes: a RAG-like prompt and a short answer, two repetitions each.
PROMPT_TOKENS = 256
DECODE_TOKENS = 32
REPETITIONS = 2
#: A load average at this many times the cores is too crowded to calibrate before a run.
CROWDED = 2.0
#: The fixed prompt of the llama-server fallback (about 250 tokens of plain English).
_FALLBACK_PROMPT = ("The workbench measures how fast this machine runs a small language "
                    "model, so that runs from different machines can be told apart. ") * 12


class CalibrationError(RuntimeError):
    """The calibration could not run (no llama.cpp build, no model, the tool failed)."""


def cache_path(cache_dir: Path, fingerprint: str) -> Path:
    """Where the calibration of the host with `fingerprint` is kept."""
    return cache_dir / "host" / f"calibration-{fingerprint}.json"


def cached(cache_dir: Path, fingerprint: str | None = None) -> dict[str, Any] | None:
    """The stored calibration of this host (or of `fingerprint`), None when absent."""
    path = cache_path(cache_dir, fingerprint or host_fingerprint())
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def calibration(cache_dir: Path, measure: Callable[[], dict[str, Any]],
                fingerprint: str | None = None, force: bool = False) -> dict[str, Any]:
    """The host's calibration: the cached one, else `measure()`'s result, stored with the
    fingerprint, the time and the load average before measuring (`busy` when it was at or
    above the core count; a busy one is measured again once the machine is quiet)."""
    fp = fingerprint or host_fingerprint()
    cores = cpu_facts().usable_cores
    load_before = read_loadavg()
    if not force:
        found = cached(cache_dir, fp)
        # A calibration taken on a busy machine measured its neighbours too: it is
        # replaced the first time the machine is quiet.
        if found is not None and not (found.get("busy") and load_before < cores):
            return found
    result = {"fingerprint": fp, **measure(),
              "measured_utc": datetime.now(UTC).isoformat(timespec="seconds"),
              "load_before": round(load_before, 2), "busy": load_before >= cores}
    path = cache_path(cache_dir, fp)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(path)  # atomic: a reader never sees half a file
    return result


def _threads() -> int:
    facts = cpu_facts()
    quota = int(facts.cpu_quota) if facts.cpu_quota else facts.usable_cores
    return max(1, min(facts.usable_cores, quota))


def parse_llama_bench(text: str) -> dict[str, Any]:
    """Prefill and decode tok/s (mean and stddev over repetitions) from `llama-bench -o
    json`: one entry with n_gen 0 (prompt processing), one with n_prompt 0 (generation)."""
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise CalibrationError(f"llama-bench printed no JSON: {text[:200]!r}") from exc
    out: dict[str, Any] = {}
    for e in entries if isinstance(entries, list) else []:
        kind = "prefill" if int(e.get("n_gen", 0)) == 0 else "decode"
        out[f"{kind}_tok_s"] = round(float(e["avg_ts"]), 1)
        out[f"{kind}_stddev_tok_s"] = round(float(e.get("stddev_ts") or 0.0), 1)
        out.setdefault("engine_build", e.get("build_commit"))
        out.setdefault("threads", e.get("n_threads"))
    if "prefill_tok_s" not in out or "decode_tok_s" not in out:
        raise CalibrationError(f"llama-bench JSON lacks a prompt or a generation test: "
                               f"{text[:200]!r}")
    return out


def bench_with_llama_bench(binary: Path, gguf: Path, threads: int,
                           timeout_s: float = 300.0) -> dict[str, Any]:
    """`llama-bench -m GGUF -p 256 -n 32 -r 2 -t THREADS -o json`."""
    argv = [str(binary), "-m", str(gguf), "-p", str(PROMPT_TOKENS), "-n", str(DECODE_TOKENS),
            "-r", str(REPETITIONS), "-t", str(threads), "-o", "json"]
    started = time.perf_counter()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                             check=False, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CalibrationError(f"{binary.name} failed: {exc}") from exc
    if out.returncode != 0:
        raise CalibrationError(f"{' '.join(argv)} exited {out.returncode}: "
                               f"{out.stderr.strip()[-300:]}")
    result = parse_llama_bench(out.stdout)
    return {**result, "tool": "llama-bench", "model": gguf.name,
            "prompt_tokens": PROMPT_TOKENS, "decode_tokens": DECODE_TOKENS,
            "repetitions": REPETITIONS, "seconds": round(time.perf_counter() - started, 1)}


def bench_with_llama_server(url: str, repetitions: int = 3,
                            timeout_s: float = 120.0) -> dict[str, Any]:
    """A running `llama-server` (base URL without /v1) answers the fixed prompt
    `repetitions` times without its prompt cache; the medians of its own `timings`."""
    prefill: list[float] = []
    decode: list[float] = []
    n_prompt = 0
    started = time.perf_counter()
    for _ in range(repetitions):
        body = httpx.post(f"{url}/completion", timeout=timeout_s, json={
            "prompt": _FALLBACK_PROMPT, "n_predict": DECODE_TOKENS, "temperature": 0,
            "cache_prompt": False, "ignore_eos": True}).json()
        t = body.get("timings") or {}
        prefill.append(float(t["prompt_per_second"]))
        decode.append(float(t["predicted_per_second"]))
        n_prompt = int(t.get("prompt_n") or 0)
    return {"tool": "llama-server timings", "prefill_tok_s": round(statistics.median(prefill), 1),
            "decode_tok_s": round(statistics.median(decode), 1),
            "prompt_tokens": n_prompt, "decode_tokens": DECODE_TOKENS,
            "repetitions": repetitions, "seconds": round(time.perf_counter() - started, 1)}


def measure_here(log_dir: Path) -> dict[str, Any]:
    """Calibrate with this venv's llama.cpp on the packaged SmolLM2: llama-bench when the
    build shipped it, else llama-server's timings. Raises `CalibrationError`."""
    # Imported here: the rest of workbench.host is a leaf the stacks package imports.

    try:
        server = Path(llama_server_binary())
        gguf = resolve_gguf(PACKAGED_GGUF)
    except (EngineUnavailableError, ModelFileError) as exc:
        raise CalibrationError(str(exc)) from exc
    threads = _threads()
    bench = server.with_name("llama-bench")
    if bench.is_file():
        return {**bench_with_llama_bench(bench, gguf, threads), "threads": threads}
    try:
        with local_llama_server(log_dir / "calibration-llama-server.log", free_port(),
                                context=2048, slots=1, threads=threads) as running:
            result = bench_with_llama_server(running.url.removesuffix("/v1"))
    except (LaunchError, OSError, KeyError, ValueError) as exc:
        raise CalibrationError(f"llama-server calibration failed: {exc}") from exc
    return {**result, "model": gguf.name, "threads": threads,
            "note": "llama-bench is not in this llama.cpp build: llama-server's timings"}


def crowded() -> bool:
    """Whether the load average is at twice the cores or more: llama.cpp's threads then wait
    on each other (decode fell to 0.6 tok/s at load 13 on 2 cores), so a calibration before
    a run would take minutes and measure the neighbours."""
    return read_loadavg() >= CROWDED * cpu_facts().usable_cores


def host_calibration(cache_dir: Path, log_dir: Path, *, run_if_missing: bool = True,
                     force: bool = False) -> dict[str, Any] | None:
    """This host's calibration: cached, else measured now (when `run_if_missing` and the
    machine is not crowded); None when it is neither cached nor measurable (no llama.cpp
    here) or the machine is too busy to say anything about itself."""
    if not run_if_missing and not force:
        return cached(cache_dir)
    found = cached(cache_dir)
    if found is None and not force and crowded():
        return None
    try:
        return calibration(cache_dir, lambda: measure_here(log_dir), force=force)
    except CalibrationError:
        return None
