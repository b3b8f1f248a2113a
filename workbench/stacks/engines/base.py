"""What an engine adapter is: everything engine-specific, answered by the engine's own class.

The rest of the workbench never branches on an engine's name; it asks the engine's
adapter (`workbench.stacks.engines.registry.get_adapter(stack.engine)`) its facts, and
`adapter_for(stack)` (the same adapter, wrapped for compose and remote launches) how to
launch, check and stop it:

- launching: the process to start (argv + env, CPU and GPU), whether it can run here, slow
  one-off work (conversion, tuning), health and readiness, a step once healthy (Ollama's
  `create`), how to stop what is not a plain process (compose), its version;
- sizing: the memory it will hold (`engine_memory`), its default share of a GPU,
  whether it serves a converted model (`needs_conversion`);
- asking it: request quirks (`shape_request`: llama.cpp's `cache_prompt`, TGI's `top_p`),
  the prefix-caching default, the counters its `/metrics` has for a run;
- what it serves (`probe_identity`, `identity_source`, `version_paths`,
  `routes_by_model_name`, `serves_hf_id`) and how it is tuned (`tuning`).

An external RAG backend is not an engine: it is a kind of stack
(`workbench.stacks.kinds`), launched with `NO_ENGINE`.
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from workbench.settings import Settings
from workbench.stacks.capacity import LLAMA_SERVER_BASE_BYTES
from workbench.stacks.recipe import Stack

if TYPE_CHECKING:
    from workbench.host import CpuFacts
    from workbench.stacks.tuning_choice import EngineSetting


#: What `EngineAdapter.counter_totals` answers (`workbench.report.engine_counters`).
COUNTER_TOTALS = ("prompt", "cached", "hit_rate", "prefill_s", "prefills", "queue_ms")


def counter(counts: Mapping[str, Any], name: str) -> float | None:
    """One counter of a run's differences, or None when absent or not a number."""
    value = counts.get(name)
    return float(value) if isinstance(value, int | float) else None


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when either is missing or den is 0."""
    return num / den if num is not None and den else None


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


class EngineTuning(Protocol):
    """How the tuning probe (`workbench.stacks.tuning`) chooses an engine's settings on a
    CPU host: which recipe fields and flags pin them, the rule without a probe, the
    candidates a probe tries, their flags, and the installed engine's build."""

    #: engine_args flags that pin what the probe would choose (the recipe then wins).
    pinning_flags: tuple[str, ...]

    def recipe_pins(self, stack: Stack) -> dict[str, Any]:
        """The recipe's `tuning:` fields that are not `auto`, as setting fields."""
        ...

    def host_rule(self, stack: Stack, facts: CpuFacts, cores: int) -> EngineSetting:
        """The setting without a probe (`cores`: those given to the stack)."""
        ...

    def candidates(self, stack: Stack, facts: CpuFacts, cores: int) -> list[EngineSetting]:
        """The settings a probe tries here, the reference first."""
        ...

    def flags(self, setting: EngineSetting) -> list[str]:
        """The engine flags of one setting."""
        ...

    def build(self, settings: Settings) -> str | None:
        """The installed engine's version, read without starting it (None: missing)."""
        ...


class EngineAdapter(ABC):
    """Everything engine-specific about one `engine:` kind (see the module docstring)."""

    #: The recipe `engine:` value this adapter serves.
    kind: str = ""
    #: Whether the engine reuses cached prompt prefixes when the recipe leaves
    #: `generation.prefix_caching` unset (None: unknown).
    prefix_caching_default: bool | None = None
    #: A hosted API: it always runs elsewhere (`engine_url`), whatever `launch` says.
    hosted: bool = False
    #: The engine routes requests by model name, so a model its server does not list is
    #: an error at `up` (a server of one model answers whatever the request names: a warning).
    routes_by_model_name: bool = False
    #: Given `model.hf_id` it serves that Hugging Face checkpoint, not the recipe's GGUF.
    serves_hf_id: bool = False
    #: It has a Prometheus `/metrics` the identity probe snapshots.
    has_metrics: bool = True
    #: The prefixes of its own metric families there (`vllm:`); the snapshot keeps every
    #: engine's (a server reached by URL may be another engine than its recipe says).
    metric_prefixes: tuple[str, ...] = ()
    #: The token and prefix-cache counters its `/metrics` holds that the runner keeps per
    #: run, by name without Prometheus' `_total` (`workbench.runner.engine_metrics`).
    run_counter_names: tuple[str, ...] = ()
    #: The gauges a load bench samples from its `/metrics`, under common names
    #: (`queue_depth`, `running`, `kv_cache_usage`): each the first of its names found.
    load_gauges: Mapping[str, tuple[str, ...]] = MappingProxyType({})
    #: Where the identity probe learns the served model's name (for the manifest's note).
    identity_source: str = "its API"
    #: Paths on the engine root whose JSON names its version (`version`, `build_info` or
    #: `build_commit`), asked when `version` does not answer.
    version_paths: tuple[str, ...] = ()
    #: The share of each GPU it takes when the recipe gives none (None: what its layers need).
    gpu_memory_share_default: float | None = None
    #: How the tuning probe chooses its settings on CPU; None: not tuned by the workbench.
    tuning: EngineTuning | None = None
    #: Its `/props` `system_info` lists the ggml CPU features it was built with (the
    #: manifest's build record, `workbench.host.engine_build`).
    reports_ggml_build: bool = False

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise EngineUnavailableError when the engine cannot run here (default: it can)."""
        return None

    @abstractmethod
    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """The engine server to start, or None when nothing is started (external)."""

    def prepare(self, stack: Stack, settings: Settings) -> None:
        """Slow one-off work before a start (model conversion); default: nothing."""
        return None

    def prepare_model(self, stack: Stack, settings: Settings) -> None:
        """The model part of `prepare` (the tuning probe's, without tuning): default nothing."""
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

    def after_healthy_in_container(self, stack: Stack, ctx: LaunchContext,
                                   exec_argv: list[str], models_dir: str,
                                   run_dir: str, env: dict[str, str]) -> None:
        """`after_healthy` for an engine in a compose container: `exec_argv` runs a
        command inside it, where the GGUF's folder and the run folder are mounted at
        `models_dir` and `run_dir`; default: nothing."""
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

    def process_for(self, stack: Stack, ctx: LaunchContext,
                    setting: EngineSetting) -> EngineProcess:
        """The engine process under one tuning setting (engines with `tuning` only)."""
        raise EngineUnavailableError(f"engine {self.kind!r} is not tuned by the workbench")

    def engine_memory(self, stack: Stack, model_bytes: int) -> int:
        """Bytes of this machine's memory the engine holds on CPU, serving a model file of
        `model_bytes`; default: the GGUF mmapped whole plus llama-server's own (llama.cpp,
        Ollama and TGI alike; see `workbench.stacks.capacity`)."""
        return LLAMA_SERVER_BASE_BYTES + model_bytes

    def needs_conversion(self, stack: Stack) -> bool:
        """Whether the launch first converts the recipe's GGUF (vLLM); default no."""
        return False

    def shape_request(self, params: dict[str, Any],
                      prefix_caching: bool | None) -> dict[str, Any]:
        """The chat-completion parameters as this engine takes them, given the recipe's
        prefix-caching switch (None: the engine's default); default: unchanged."""
        return params

    def counter_totals(self, counts: Mapping[str, Any]) -> dict[str, float | None] | None:
        """Prompt tokens, cached tokens, prefix-cache hit rate, prefill seconds and count,
        mean queue ms (`COUNTER_TOTALS`) from a run's counter differences, when they are
        this engine's; default: None (not its counters)."""
        return None

    def probe_identity(self, client: httpx.Client, root: str, model: str,
                       out: dict[str, Any]) -> None:
        """Ask the engine at `root` what it serves (its own API, beyond `/v1/models`) and
        fill `out`: `version`, `context`, `details`, `notes`, `gguf_sha256`, ...
        (`out["served_entry"]` holds its `/v1/models` entry); default: nothing more."""
        return None


class NoEngine(EngineAdapter):
    """The adapter of a stack without an engine (an external RAG backend): nothing to
    start, check or ask."""

    kind = ""

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess | None:
        """None: no engine."""
        return None

    def health_path(self, stack: Stack) -> str | None:
        """None: no engine health to poll."""
        return None


NO_ENGINE = NoEngine()


def probe_get(client: httpx.Client, url: str) -> tuple[int | None, Any]:
    """GET `url` for a probe: (status, JSON body, else text), or (None, the error)."""
    try:
        resp = client.get(url)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}".rstrip(": ")
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, resp.text


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
