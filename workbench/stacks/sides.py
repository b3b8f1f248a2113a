"""Which stacks make side A and side B by default, and why (printed as a note)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


def gpu_available() -> bool:
    """Whether an NVIDIA GPU is usable here (`nvidia-smi -L` succeeds and lists one)."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        done = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def ollama_available() -> bool:
    """Whether an `ollama` binary is on PATH."""
    return shutil.which("ollama") is not None


@dataclass(frozen=True)
class DefaultSides:
    """The default pair and the reasons it was chosen."""

    a: str
    b: str
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
    from workbench.stacks.gpu import llama_server_gpu, vllm_gpu_python

    return llama_server_gpu() is not None, vllm_gpu_python() is not None


def default_sides(gpu: bool | None = None, ollama: bool | None = None,
                  docker: bool | None = None,
                  native: tuple[bool, bool] | None = None) -> DefaultSides:
    """A = Ollama (GPU, or CPU when `ollama` is installed, else llama.cpp); B = vLLM.

    On a GPU host the compose stacks need Docker; without it the native CUDA stacks
    (`native`: a CUDA llama-server, a CUDA vLLM) stand in, each side on its own, and a
    side with neither falls back to its CPU stack, saying why.
    """
    gpu = gpu_available() if gpu is None else gpu
    ollama = ollama_available() if ollama is None else ollama
    if gpu:
        docker = docker_compose_works() if docker is None else docker
        if docker:
            return DefaultSides("ollama-gpu", "vllm-gpu",
                                ["a GPU was detected (nvidia-smi -L)"])
        llama_gpu, vllm_gpu = native_gpu_engines() if native is None else native
        cpu = default_sides(gpu=False, ollama=ollama)
        a = "llamacpp-gpu-native" if llama_gpu else cpu.a
        b = "vllm-gpu-native" if vllm_gpu else cpu.b
        notes = ["a GPU was detected (nvidia-smi -L) but `docker compose` does not work "
                 "here, so not the compose stacks"]
        if not (llama_gpu and vllm_gpu):
            missing = [what for what, ok in (("CUDA llama-server", llama_gpu),
                                             ("CUDA vLLM", vllm_gpu)) if not ok]
            notes.append(f"no {' or '.join(missing)} is installed: "
                         f"{'that side runs' if len(missing) == 1 else 'both sides run'} the "
                         "CPU stack (stacks/*-gpu-native.yaml say what a native GPU side needs)")
        return DefaultSides(a, b, notes)
    notes = ["no GPU detected: using the CPU stacks"]
    if ollama:
        return DefaultSides("ollama-cpu", "vllm-cpu", notes)
    notes.append(
        "`ollama` is not installed here, so side A is llamacpp-cpu (llama.cpp, the same GGUF "
        "engine family), not Ollama"
    )
    return DefaultSides("llamacpp-cpu", "vllm-cpu", notes)
