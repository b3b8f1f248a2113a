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


def default_sides(gpu: bool | None = None, ollama: bool | None = None) -> DefaultSides:
    """A = Ollama (GPU, or CPU when `ollama` is installed, else llama.cpp); B = vLLM."""
    gpu = gpu_available() if gpu is None else gpu
    ollama = ollama_available() if ollama is None else ollama
    if gpu:
        return DefaultSides("ollama-gpu", "vllm-gpu", ["a GPU was detected (nvidia-smi -L)"])
    notes = ["no GPU detected: using the CPU stacks"]
    if ollama:
        return DefaultSides("ollama-cpu", "vllm-cpu", notes)
    notes.append(
        "`ollama` is not installed here, so side A is llamacpp-cpu (llama.cpp, the same GGUF "
        "engine family), not Ollama"
    )
    return DefaultSides("llamacpp-cpu", "vllm-cpu", notes)
