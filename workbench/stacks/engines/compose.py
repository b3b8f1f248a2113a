"""`launch: compose`: the engine (and a Qdrant server) run from a docker compose file.

Used on GPU servers. The compose file reads its ports and model from environment
variables the launcher sets (so two stacks never collide), and `HF_TOKEN` straight from the
caller's environment: the launcher never writes the environment to a log. Health and
version are the wrapped engine's own (`/health`, `/api/version`, ...) on the host port.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from workbench.settings import Settings
from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    EngineUnavailableError,
    LaunchContext,
    which,
)
from workbench.stacks.gpu import VLLM_DEFAULT_SHARE, memory_share
from workbench.stacks.models import recipe_gguf
from workbench.stacks.recipe import Stack

#: Where compose files mount the GGUF's folder and the stack's run folder.
CONTAINER_MODELS = "/models"
CONTAINER_RUN = "/workbench"


def compose_file(stack: Stack) -> Path:
    """The compose file, relative to the recipe's folder."""
    assert stack.compose is not None
    base = stack.source_path.parent if stack.source_path else Path.cwd()
    return (base / stack.compose.file).resolve()


def qdrant_port(stack: Stack) -> int:
    """The Qdrant server's host port: two above the RAG port, so stacks never collide."""
    return stack.ports.rag + 2


def compose_argv(stack: Stack, *args: str) -> list[str]:
    """`docker compose -p <project> -f <file> <args...>`."""
    assert stack.compose is not None
    return ["docker", "compose", "-p", stack.compose.project, "-f", str(compose_file(stack)), *args]


def compose_env(stack: Stack, run_dir: Path) -> dict[str, str]:
    """Variables the compose files read (ports, model, context); HF_TOKEN is inherited."""
    assert stack.model is not None and stack.ports.engine is not None
    gguf = recipe_gguf(stack)
    return {
        "ENGINE_PORT": str(stack.ports.engine),
        "QDRANT_PORT": str(qdrant_port(stack)),
        "BIND_HOST": stack.host,
        "MODEL_NAME": stack.model.name,
        "HF_MODEL": stack.model.hf_id or stack.model.name,
        "MODEL_DIR": str(gguf.parent),
        "MODEL_FILE": gguf.name,
        "CONTEXT_WINDOW": str(stack.generation.context_window),
        "SLOTS": str(stack.resources.slots),
        "CONTEXT_TOTAL": str(stack.generation.context_window * stack.resources.slots),
        "RUN_DIR": str(run_dir),
        # The cards the engine's container reserves, and vLLM's share of each.
        "GPU_IDS": stack.resources.gpus or "0",
        "GPU_MEMORY_SHARE": f"{memory_share(stack) or VLLM_DEFAULT_SHARE:g}",
        **stack.env,
    }


class ComposeAdapter(EngineAdapter):
    """Wraps an engine adapter: compose starts the engine, the engine adapter checks it."""

    kind = "compose"

    def __init__(self, engine: EngineAdapter) -> None:
        self.engine = engine

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise unless `docker compose` works here."""
        if which("docker") is None:
            raise EngineUnavailableError(
                f"stack {stack.name!r} runs under docker compose (GPU servers), but `docker` "
                "is not installed here; use a native CUDA install instead "
                "(stacks/*-gpu-native.yaml), a GPU server by URL (`launch: remote`), or a "
                "`-cpu` stack"
            )
        try:
            ok = subprocess.run(
                ["docker", "compose", "version"], capture_output=True, timeout=20, check=False
            ).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if not ok:
            raise EngineUnavailableError(
                f"stack {stack.name!r} needs `docker compose`, which does not work here "
                "(no compose plugin or no Docker engine); use a `-cpu` stack instead"
            )
        if not compose_file(stack).is_file():
            raise EngineUnavailableError(f"compose file {compose_file(stack)} does not exist")

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """None: compose, not us, owns the engine's processes."""
        return None

    def start_commands(self, stack: Stack, ctx: LaunchContext) -> list[list[str]]:
        """`docker compose ... up -d`."""
        return [compose_argv(stack, "up", "-d")]

    def stop_commands(self, stack: Stack, ctx: LaunchContext) -> list[list[str]]:
        """`docker compose ... down` (volumes kept: they hold the model cache)."""
        return [compose_argv(stack, "down")]

    def command_env(self, stack: Stack, ctx: LaunchContext) -> dict[str, str]:
        """Ports and model for the compose file."""
        return compose_env(stack, ctx.run_dir)

    def health_path(self, stack: Stack) -> str | None:
        """The wrapped engine's health path."""
        return self.engine.health_path(stack)

    def ready(self, stack: Stack) -> bool:
        """The wrapped engine's readiness."""
        return self.engine.ready(stack)

    def version(self, stack: Stack) -> str | None:
        """The wrapped engine's version."""
        return self.engine.version(stack)

    def after_healthy(self, stack: Stack, ctx: LaunchContext) -> None:
        """The engine's own step once healthy, run inside its container (Ollama's `create`)."""
        if stack.model is None or stack.compose is None:
            return
        exec_argv = compose_argv(stack, "exec", "-T", stack.compose.service)
        self.engine.after_healthy_in_container(stack, ctx, exec_argv, CONTAINER_MODELS,
                                               CONTAINER_RUN, self.command_env(stack, ctx))
