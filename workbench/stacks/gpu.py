"""GPU stacks: which CUDA engine runs them here, which cards they use, and whether the
stacks meant to run together fit on those cards.

A `variant: gpu` recipe runs natively where a CUDA build of its engine is installed (vLLM
from a CUDA venv, a CUDA `llama-server`), under docker compose where Docker works, and
otherwise is refused with a message saying which of the two is missing. `resources.gpus`
becomes the engine's `CUDA_VISIBLE_DEVICES`; `resources.gpu_memory_share` is vLLM's
`--gpu-memory-utilization`, and the shares of stacks on one card may not add up to more
than the whole card (0.85 + 0.85 cannot both be had).
"""

from __future__ import annotations

import os
from pathlib import Path
from shutil import which

from workbench.host.machine import has_nvidia_gpu as has_nvidia_gpu  # the one GPU probe: host/
from workbench.stacks.engines.registry import find_adapter
from workbench.stacks.recipe import RecipeError, Stack

#: vLLM's own default for --gpu-memory-utilization.
VLLM_DEFAULT_SHARE = 0.9
#: The python of a CUDA vLLM install (its venv), when `vllm` is not on PATH.
VLLM_GPU_PYTHON_ENV = "WORKBENCH_VLLM_GPU_PYTHON"
#: A CUDA build of `llama-server` (the packaged wheel is a CPU build).
LLAMA_SERVER_GPU_ENV = "WORKBENCH_LLAMA_SERVER_GPU"


def runs_on_gpu_here(stack: Stack) -> bool:
    """Whether the stack's engine uses this machine's GPUs (remote engines use theirs)."""
    return stack.variant == "gpu" and stack.launch in ("native", "compose")


def gpu_env(stack: Stack) -> dict[str, str]:
    """`CUDA_VISIBLE_DEVICES` from `resources.gpus` (empty when the recipe names none)."""
    gpus = stack.resources.gpus
    return {"CUDA_VISIBLE_DEVICES": gpus} if gpus is not None and runs_on_gpu_here(stack) else {}


def memory_share(stack: Stack) -> float | None:
    """The share of each of its cards the engine takes: the recipe's, else the engine's
    default (vLLM's 0.9); None for an engine that takes what its layers need (llama.cpp,
    Ollama)."""
    if stack.resources.gpu_memory_share is not None:
        return stack.resources.gpu_memory_share
    adapter = find_adapter(stack.engine)
    return adapter.gpu_memory_share_default if adapter is not None else None


def cards(stack: Stack) -> list[int]:
    """The GPU indexes the stack uses (`resources.gpus`, else card 0, CUDA's default)."""
    spec = stack.resources.gpus
    return [int(g) for g in spec.split(",")] if spec else [0]


def check_gpu_shares(stacks: list[Stack]) -> None:
    """Raise RecipeError, naming the recipes, when stacks that run together on this
    machine ask one card for more than all of its memory."""
    asked: dict[int, list[tuple[Stack, float]]] = {}
    for stack in stacks:
        share = memory_share(stack)
        if not runs_on_gpu_here(stack) or share is None:
            continue
        for card in cards(stack):
            asked.setdefault(card, []).append((stack, share))
    for card, users in sorted(asked.items()):
        total = sum(share for _, share in users)
        if len(users) > 1 and total > 1.0 + 1e-9:
            who = " and ".join(
                f"{s.source_path or s.name} ({s.name}: resources.gpu_memory_share {share:g})"
                for s, share in users
            )
            raise RecipeError(
                f"GPU {card} cannot hold both: {who} ask for {total:.2f} of its memory; "
                "lower the shares so they add up to at most 1, or give the stacks different "
                "cards with resources.gpus"
            )


def vllm_gpu_python() -> Path | None:
    """The python of a CUDA vLLM: `$WORKBENCH_VLLM_GPU_PYTHON`, else the python beside a
    `vllm` command on PATH (a pip or uv install puts both in one bin folder)."""
    given = os.environ.get(VLLM_GPU_PYTHON_ENV)
    if given:
        return Path(given) if Path(given).is_file() else None
    script = which("vllm")
    if script is None:
        return None
    python = Path(script).parent / "python"
    return python if python.is_file() else None


def llama_server_gpu() -> str | None:
    """A CUDA `llama-server`: `$WORKBENCH_LLAMA_SERVER_GPU`, else `llama-server` on PATH."""
    given = os.environ.get(LLAMA_SERVER_GPU_ENV)
    if given:
        return given if Path(given).is_file() else None
    return which("llama-server")


def no_gpu_route(stack: Stack, missing: str) -> str:
    """Why a GPU stack cannot start here, and the ways it could: native where a CUDA
    engine is installed, compose where Docker works, remote where the GPU is elsewhere."""
    docker = "Docker is installed" if which("docker") else "there is no Docker here either"
    return (
        f"stack {stack.name!r} is a GPU stack (variant: gpu, launch: {stack.launch}) but "
        f"{missing}. Native needs a CUDA build of the engine and the NVIDIA driver; compose "
        f"needs Docker ({docker}). Otherwise point the recipe at the GPU server where the "
        "engine already runs (`launch: remote`, `engine_url`), or choose a `-cpu` stack."
    )
