"""What an engine adapter is: the engine-specific part of launching and checking a stack.

The launcher is engine-agnostic: it asks the stack's adapter for the engine process to
start (argv + env), the URL that says it is healthy, a step to run once it is (Ollama's
`create`), its version, and how to stop what is not a plain process (compose).
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from workbench.settings import Settings
from workbench.stacks.recipe import Stack


class EngineUnavailableError(RuntimeError):
    """The engine a stack needs is not installed here; the message says what to do instead."""


@dataclass(frozen=True)
class EngineProcess:
    """A long-running engine server to start in its own process group."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait for health (vLLM on CPU needs far longer than llama.cpp).
    health_timeout_s: float = 60.0


@dataclass(frozen=True)
class LaunchContext:
    """Where one launched stack keeps its files, and the settings it was started with."""

    settings: Settings
    run_dir: Path

    def log(self, role: str) -> Path:
        """The log file of one process of the stack (`engine`, `rag`, ...)."""
        return self.run_dir / f"{role}.log"


class EngineAdapter(ABC):
    """Engine-specific launch logic for one `engine:` kind."""

    #: The recipe `engine:` value this adapter serves.
    kind: str = ""
    #: Whether the engine reuses cached prompt prefixes when the recipe leaves
    #: `generation.prefix_caching` unset (None: unknown).
    prefix_caching_default: bool | None = None

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise EngineUnavailableError when the engine cannot run here (default: it can)."""
        return None

    @abstractmethod
    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """The engine server to start, or None when nothing is started (external)."""

    def prepare(self, stack: Stack, settings: Settings) -> None:
        """Slow one-off work before a start (model conversion); default: nothing."""
        return None

    def health_path(self, stack: Stack) -> str | None:
        """Path on the engine port that answers 200 when the engine is up."""
        return "/health"

    def health_url(self, stack: Stack) -> str | None:
        """Full engine health URL, or None when the stack has no engine to check."""
        path = self.health_path(stack)
        base = engine_root(stack)
        return None if path is None or base is None else base + path

    def ready(self, stack: Stack) -> bool:
        """A second readiness check after health (e.g. the model is listed); default True."""
        return True

    def after_healthy(self, stack: Stack, ctx: LaunchContext) -> None:
        """Run once the engine is healthy (e.g. create the model); default: nothing."""
        return None

    def version(self, stack: Stack) -> str | None:
        """The running engine's version string, when it can tell."""
        return None

    def start_commands(self, stack: Stack, ctx: LaunchContext) -> list[list[str]]:
        """One-shot commands that start the engine outside our process groups (compose)."""
        return []

    def stop_commands(self, stack: Stack, ctx: LaunchContext) -> list[list[str]]:
        """One-shot commands that stop what `start_commands` started."""
        return []

    def after_stop(self, stack: Stack, ctx: LaunchContext) -> None:
        """Clean up after the engine stopped (temporary folders); default: nothing."""
        return None

    def command_env(self, stack: Stack, ctx: LaunchContext) -> dict[str, str]:
        """Environment for the one-shot commands."""
        return {}


def engine_root(stack: Stack) -> str | None:
    """The engine's base URL without `/v1` (health and native APIs live there)."""
    base = stack.engine_base_url
    if base is None:
        return None
    return base.removesuffix("/v1")


def get_json(url: str, timeout: float = 2.0) -> object | None:
    """GET a JSON document, or None on any HTTP or decoding error."""
    try:
        resp = httpx.get(url, timeout=timeout)
        if resp.status_code != 200:
            return None
        data: object = resp.json()
        return data
    except (httpx.HTTPError, ValueError):
        return None


def reported_version(stack: Stack, path: str, label: str) -> str | None:
    """`<label> <version>` from the `version` field of the engine's own JSON endpoint
    (`/version` on vLLM, `/api/version` on Ollama, `/info` on TGI), or None."""
    root = engine_root(stack)
    info = get_json(f"{root}{path}") if root else None
    if isinstance(info, dict) and info.get("version"):
        return f"{label} {info['version']}"
    return None


def which(program: str) -> str | None:
    """Path of `program` on PATH (looked up fresh: tests change PATH)."""
    return shutil.which(program)


def taskset_prefix(stack: Stack) -> list[str]:
    """`taskset -c CPUS` when the recipe pins the engine to a CPU set."""
    cpuset = stack.resources.cpuset
    return ["taskset", "-c", cpuset] if cpuset else []
