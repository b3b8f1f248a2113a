"""The GGUF -> Hugging Face conversion vLLM needs, cached by the GGUF's sha256.

The conversion itself runs in the vLLM venv (`convert_gguf.py`); this module decides where
the result lives (`<cache_dir>/models/<digest>/`) and runs the script when it is missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from workbench.settings import Settings
from workbench.stacks.engines.registry import find_adapter
from workbench.stacks.models import gguf_digest
from workbench.stacks.models import recipe_gguf as recipe_gguf  # where vLLM and tests look
from workbench.stacks.recipe import Stack

CONVERT_SCRIPT = Path(__file__).with_name("convert_gguf.py")


class ConversionError(RuntimeError):
    """The GGUF could not be converted; the message carries the script's output."""


def converted_dir(gguf: Path, settings: Settings) -> Path:
    """Where the HF conversion of `gguf` is (or will be) cached."""
    return settings.cache_dir / "models" / gguf_digest(gguf)


def needs_conversion(stack: Stack) -> bool:
    """Whether a stack serves the HF conversion of its GGUF (its engine adapter says:
    native vLLM without hf_id)."""
    adapter = find_adapter(stack.engine)
    return adapter is not None and adapter.needs_conversion(stack)


def ensure_converted(gguf: Path, settings: Settings, timeout_s: float = 900.0) -> Path:
    """The cached HF folder for `gguf`, converting it first when absent (~25 s here)."""
    dest = converted_dir(gguf, settings)
    if (dest / "config.json").is_file():
        return dest
    python = settings.vllm_python_path
    if not python.is_file():
        raise ConversionError(f"the vLLM venv python {python} does not exist (run `make vllm`)")
    try:
        done = subprocess.run(
            [str(python), str(CONVERT_SCRIPT), str(gguf), str(dest)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            env=_offline_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise ConversionError(f"converting {gguf} took over {timeout_s:.0f} s") from exc
    if done.returncode != 0 or not (dest / "config.json").is_file():
        out = (done.stdout + done.stderr)[-3000:]
        raise ConversionError(f"converting {gguf} to {dest} failed ({done.returncode}):\n{out}")
    return dest


def _offline_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
