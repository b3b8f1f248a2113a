"""The two stacks a run starts with by default (the baseline, then the candidate), and why
(printed as a note): a two-stack run shows them as A and B."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from workbench.host.machine import gpu_available
from workbench.stacks.gpu import llama_server_gpu, vllm_gpu_python


def ollama_available() -> bool:
    """Whether an `ollama` binary is on PATH."""
    return shutil.which("ollama") is not None


@dataclass(frozen=True)
class DefaultStacks:
    """The default two stacks (the baseline first) and the reasons they were chosen."""

    baseline: str
    candidate: str
    notes: list[str]


def docker_compose_works() -> bool:
    """Whether `docker compose version` succeeds here (the GPU compose stacks need it)."""
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(["docker", "compose", "version"], capture_output=True,
                              timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def native_gpu_engines() -> tuple[bool, bool]:
    """(a CUDA llama-server, a CUDA vLLM) installed here (see `workbench.stacks.gpu`)."""
    return llama_server_gpu() is not None, vllm_gpu_python() is not None


def default_stacks(gpu: bool | None = None, ollama: bool | None = None,
                  docker: bool | None = None,
                  native: tuple[bool, bool] | None = None) -> DefaultStacks:
    """The baseline (A) = Ollama (GPU, or CPU when `ollama` is installed, else llama.cpp);
    the candidate (B) = vLLM.

    On a GPU host the compose stacks need Docker; without it the native CUDA stacks
    (`native`: a CUDA llama-server, a CUDA vLLM) stand in, each on its own, and a stack
    whose CUDA engine is missing falls back to its CPU stack, saying why.
    """
    gpu = gpu_available() if gpu is None else gpu
    ollama = ollama_available() if ollama is None else ollama
    if gpu:
        docker = docker_compose_works() if docker is None else docker
        if docker:
            return DefaultStacks("ollama-gpu", "vllm-gpu",
                                ["a GPU was detected (nvidia-smi -L)"])
        llama_gpu, vllm_gpu = native_gpu_engines() if native is None else native
        cpu = default_stacks(gpu=False, ollama=ollama)
        baseline = "llamacpp-gpu-native" if llama_gpu else cpu.baseline
        candidate = "vllm-gpu-native" if vllm_gpu else cpu.candidate
        notes = ["a GPU was detected (nvidia-smi -L) but `docker compose` does not work "
                 "here, so not the compose stacks"]
        if not (llama_gpu and vllm_gpu):
            missing = [what for what, ok in (("CUDA llama-server", llama_gpu),
                                             ("CUDA vLLM", vllm_gpu)) if not ok]
            notes.append(f"no {' or '.join(missing)} is installed: "
                         f"{'that stack runs' if len(missing) == 1 else 'both run'} on the "
                         "CPU (stacks/*-gpu-native.yaml say what a native GPU stack needs)")
        return DefaultStacks(baseline, candidate, notes)
    notes = ["no GPU detected: using the CPU stacks"]
    if ollama:
        return DefaultStacks("ollama-cpu", "vllm-cpu", notes)
    notes.append(
        "`ollama` is not installed here, so the baseline (A) is llamacpp-cpu (llama.cpp, the "
        "same GGUF engine family), not Ollama"
    )
    return DefaultStacks("llamacpp-cpu", "vllm-cpu", notes)
