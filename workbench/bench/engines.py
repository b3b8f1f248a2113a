"""Engine benchmark: start-up time, memory and single-stream decode speed per engine.

For llama.cpp and vLLM CPU, on the default recipes (packaged SmolLM2-135M):
- cold start: the first start in this process (dropping the page cache needs root, so the
  model file may already be cached by the OS: "cold" means "not started before by us");
- warm start: a restart right after stopping it (page cache and vLLM's caches warm);
- RSS of the engine's process tree once healthy;
- decode tokens/s, single stream: a ~128-token completion streamed at temperature 0,
  (completion_tokens - 1) / (last content chunk - first content chunk), tokens as the server
  reports them (`stream_options.include_usage`).
Stacks run on free ports under a temporary state folder, so running stacks are not touched.
Tiny (`--tiny`, the smoke test): llama.cpp only (it is up in seconds; vLLM's start takes
20-30 s and is skipped, saying so), a 16-token completion.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from pathlib import Path

from workbench.settings import Settings, get_settings
from workbench.stacks import launcher
from workbench.stacks.process import free_port, tree_rss_mib
from workbench.stacks.recipe import Stack, get_stack

ENGINES = {"llama.cpp": "llamacpp-cpu", "vLLM CPU": "vllm-cpu"}
PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."
DECODE_TOKENS = 128
TINY_DECODE_TOKENS = 16


def decode_tokens_per_s(stack: Stack, max_tokens: int = DECODE_TOKENS) -> tuple[float, int]:
    """(tokens/s, completion tokens) of one streamed `max_tokens`-token completion."""
    # why here: openai takes seconds to import
    from openai import OpenAI

    assert stack.engine_base_url is not None and stack.model is not None
    client = OpenAI(base_url=stack.engine_base_url, api_key="none", timeout=300)
    first = last = 0.0
    tokens = 0
    stream = client.chat.completions.create(
        model=stack.model.name,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        # Both servers accept ignore_eos: measure every token asked for, not an early stop.
        extra_body={"ignore_eos": True},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            last = time.perf_counter()
            first = first or last
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    if tokens < 2 or last <= first:
        return 0.0, tokens
    return (tokens - 1) / (last - first), tokens


def bench_engine(label: str, recipe: str, settings: Settings,
                 max_tokens: int = DECODE_TOKENS) -> None:
    """Print cold/warm start-up, RSS and decode speed of one engine's default recipe."""
    stack = launcher.place(get_stack(recipe, settings.stacks_dir), free_port(), free_port())
    try:
        t0 = time.perf_counter()
        running = launcher.up(stack, settings, with_rag=False)
        cold = time.perf_counter() - t0
        engine = running.state.process("engine")
        rss = tree_rss_mib(engine.pid) if engine else None
        launcher.down([stack.name], settings)
        t0 = time.perf_counter()
        running = launcher.up(stack, settings, with_rag=False)
        warm = time.perf_counter() - t0
        decode_tokens_per_s(stack, max_tokens)  # warm-up request, not counted
        tps, tokens = decode_tokens_per_s(stack, max_tokens)
        engine = running.state.process("engine")
        rss_after = tree_rss_mib(engine.pid) if engine else None
    finally:
        launcher.down([stack.name], settings)
    rss_text = "n/a"
    if rss is not None and rss_after is not None:
        rss_text = f"{rss:.0f} MiB at ready, {rss_after:.0f} MiB after decode"
    print(
        f"{label:10} cold start {cold:6.1f} s | warm start {warm:6.1f} s | RSS {rss_text} | "
        f"decode {tps:6.1f} tok/s ({tokens} tokens, 1 stream, temperature 0)",
        flush=True,
    )


def run(tiny: bool = False) -> None:
    """Benchmark every available engine (skipping, with a reason, those not installed)."""
    base = get_settings()
    # A SIGTERM (CI timeout, `kill`) must still run the `finally` that stops the engines,
    # which live in their own sessions and would otherwise outlive us.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
            settings = base.model_copy(update={"state_dir": Path(tmp)})
            print("cold = first start in this process (page cache not dropped); warm = restart")
            for label, recipe in ENGINES.items():
                if tiny and recipe != "llamacpp-cpu":
                    print(f"{label:10} skipped: tiny run (its start takes 20-30 s here)",
                          flush=True)
                    continue
                try:
                    bench_engine(label, recipe, settings,
                                 TINY_DECODE_TOKENS if tiny else DECODE_TOKENS)
                except Exception as exc:  # one engine missing must not hide the other's
                    print(f"{label:10} skipped: {exc}", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)  # the caller's handler (pytest's, say)
