"""Build what a load benchmark drives: bench stacks (`load.sweep.BenchStack`) from running
stacks or a bare URL, and synthetic prompts calibrated to a token length on the real server.
"""

from __future__ import annotations

from typing import Any

import psutil

from workbench.load.client import EngineTarget, RagTarget
from workbench.load.prompts import LoadPrompt, synthetic_prompts
from workbench.load.sweep import BenchStack
from workbench.settings import Settings
from workbench.stacks.kinds import stack_kind
from workbench.stacks.launcher import running_stack
from workbench.stacks.state import load_state
from workbench.targets import RemoteTargetError, Route, check_routes, recipe_allows, route


class BenchStackError(ValueError):
    """A stack cannot be loaded (not running, no engine URL, ...)."""


def checked_route(name: str, part: str, url: str, allowed: set[str] | bool) -> Route:
    """The route to `url`, refused (BenchStackError naming the URL) when it is remote and not
    allowed (`workbench.targets`)."""
    try:
        return check_routes([route(name, part, url)], allowed)[0]
    except RemoteTargetError as exc:
        raise BenchStackError(str(exc)) from exc


def running_bench_stack(
    name: str, part: str, settings: Settings, *, max_tokens: int | None, ignore_eos: bool,
    timeout_s: float, space_id: str = "default", allow_remote: bool = False,
) -> tuple[BenchStack, Any]:
    """A running stack under load, its `part` the engine (`engine`) or the RAG service
    (`rag`); returns (the bench stack, its effective recipe).

    PIDs (engine and RAG service process groups) come from the launcher's state, so their
    process trees are sampled on the benchmark's timeline. A part on another machine
    needs `allow_remote` (`--allow-remote`) or the recipe's `allow_remote: true`; the
    bench stack's `route` says where its traffic goes.
    """
    stack = running_stack(name, settings)
    if stack is None:
        raise BenchStackError(f"stack {name!r} is not running: `workbench up` it first "
                              "(or drive an endpoint directly with --url)")
    state = load_state(name, settings)
    pids = {p.role: p.pid for p in state.processes} if state is not None else {}
    engine_url = stack.engine_base_url
    metrics = f"{engine_url.removesuffix('/v1')}/metrics" if engine_url else None
    gen = stack.generation
    allowed: set[str] | bool = True if allow_remote else recipe_allows([stack])
    if part == "engine":
        if engine_url is None or stack.model is None:
            raise BenchStackError(f"stack {name!r} has no OpenAI-compatible engine URL")
        way = checked_route(name, "engine", engine_url, allowed)
        client: EngineTarget | RagTarget = EngineTarget(
            name, engine_url, stack.model.name, max_tokens=max_tokens or gen.max_tokens,
            temperature=gen.temperature, ignore_eos=ignore_eos, timeout_s=timeout_s,
            metrics_url=metrics, remote_ok=way.remote,
        )
    else:
        if not stack_kind(stack).streams:
            raise BenchStackError(f"stack {name!r} is an external backend without a "
                                  "streaming endpoint; load its engine, or use `workbench "
                                  "run` for it")
        way = checked_route(name, "rag", stack.rag_url, allowed)
        # The engine's /metrics is scraped too: it needs the same consent.
        scraped = checked_route(name, "engine metrics", metrics, allowed) if metrics else None
        client = RagTarget(name, stack.rag_url, space_id=space_id, max_tokens=max_tokens,
                           timeout_s=timeout_s, metrics_url=metrics,
                           remote_ok=way.remote or bool(scraped and scraped.remote))
    return BenchStack(name=name, target=client, pids=pids, route=way), stack


def url_bench_stack(
    url: str, model: str, *, label: str, max_tokens: int, ignore_eos: bool, timeout_s: float,
    pids: list[int], allow_remote: bool = False,
) -> BenchStack:
    """A bare OpenAI-compatible endpoint under load, named `label` (e.g. a llama-server
    for validation); another machine's only with `allow_remote`."""
    way = checked_route(label, "engine", url, allow_remote)
    target = EngineTarget(label, url, model, max_tokens=max_tokens, ignore_eos=ignore_eos,
                          timeout_s=timeout_s, remote_ok=way.remote)
    return BenchStack(name=label, target=target, pids=_pid_labels(pids), route=way)


def _pid_labels(pids: list[int]) -> dict[str, int]:
    out = {}
    for pid in pids:
        if not psutil.pid_exists(pid):
            raise BenchStackError(f"--pid {pid}: no such process")
        out[f"pid{pid}"] = pid
    return out


async def calibrated_prompts(
    target: EngineTarget, n: int, input_len: int, output_len: int | None, seed: int = 0,
) -> tuple[list[LoadPrompt], int]:
    """Synthetic prompts whose server-counted prompt tokens are close to `input_len`.

    Two probes (max_tokens 1) fit prompt tokens = a x words + b, where b is the chat
    template's overhead on this server; returns the prompts and the measured token count.
    `--input-len` therefore means prompt tokens as the server reports them, template
    included.
    """
    async def tokens_for(words: int) -> int:
        probe = synthetic_prompts(1, words, output_len=1, seed=seed + 1000 + words)[0]
        out = await target.send(probe)
        if out.prompt_tokens is None:
            raise BenchStackError(f"{target.name}: the server reports no usage.prompt_tokens; "
                                  f"cannot calibrate --input-len ({out.error or 'no usage'})")
        return out.prompt_tokens

    w1, w2 = max(input_len // 2, 1), max(input_len, 2)
    t1, t2 = await tokens_for(w1), await tokens_for(w2)
    slope = (t2 - t1) / (w2 - w1) if w2 != w1 and t2 != t1 else 1.0
    words = max(round(w2 + (input_len - t2) / slope), 1)
    measured = await tokens_for(words)
    return synthetic_prompts(n, words, output_len=output_len, seed=seed), measured
