"""vLLM's OpenAI server on CPU, run with the python of its own venv (`make vllm`)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from workbench.host import CpuFacts
from workbench.settings import Settings
from workbench.stacks import gpu
from workbench.stacks.capacity import BF16_PER_GGUF_BYTE, GIB, VLLM_CPU_BASE_BYTES
from workbench.stacks.conversion import converted_dir, ensure_converted, recipe_gguf
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
    reported_version,
    taskset_prefix,
)
from workbench.stacks.gpu import VLLM_DEFAULT_SHARE
from workbench.stacks.recipe import Stack
from workbench.stacks.tuning import EngineSetting, chosen_setting
from workbench.stacks.tuning_probe import ensure_tuned

TCMALLOC = Path("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4")


def _preload(python: Path) -> str | None:
    # tcmalloc + Intel OpenMP give ~15% on CPU (vLLM's CPU docs); both are optional.
    libs = [TCMALLOC, python.parent.parent / "lib" / "libiomp5.so"]
    found = [str(p) for p in libs if p.is_file()]
    return ":".join(found) or None


# vLLM binds ZeroMQ unix sockets at <VLLM_RPC_BASE_PATH>/<uuid4>; a unix socket path is at
# most 107 bytes, so the base may use 107 - 1 - 36 = 70 of them.
_RPC_BASE_MAX = 70


def rpc_dir(run_dir: Path) -> Path:
    """VLLM_RPC_BASE_PATH: inside the run folder when short enough, else a short private
    folder in the temp dir keyed by the run folder (removed again by `after_stop`)."""
    inside = run_dir / "rpc"
    if len(str(inside)) <= _RPC_BASE_MAX:
        return inside
    key = hashlib.sha256(str(run_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"wb-vllm-rpc-{key}"


class VllmTuning:
    """vLLM CPU's dtype and compile mode (see `workbench.stacks.tuning`)."""

    pinning_flags: tuple[str, ...] = ("--dtype", "--enforce-eager", "-O",
                                      "--compilation-config", "-cc")

    def recipe_pins(self, stack: Stack) -> dict[str, Any]:
        """`tuning.dtype` and `tuning.compile` when not `auto`."""
        t = stack.tuning
        pins: dict[str, Any] = {}
        if t.dtype != "auto":
            pins["dtype"] = t.dtype
        if t.compile != "auto":
            pins["eager"] = t.compile == "eager"
        return pins

    def host_rule(self, stack: Stack, facts: CpuFacts, cores: int) -> EngineSetting:
        """bf16 eager only with native BF16, else fp32 eager (eager: compiled bf16 once
        answered wrongly)."""
        return EngineSetting(dtype="bfloat16" if facts.native_bf16 else "float32", eager=True)

    def candidates(self, stack: Stack, facts: CpuFacts, cores: int) -> list[EngineSetting]:
        """fp32 eager (the reference), fp32 compiled and, with native BF16, bf16 eager and
        compiled."""
        found = [EngineSetting(dtype="float32", eager=True),
                 EngineSetting(dtype="float32", eager=False)]
        if facts.native_bf16:
            found += [EngineSetting(dtype="bfloat16", eager=True),
                      EngineSetting(dtype="bfloat16", eager=False)]
        return found

    def flags(self, setting: EngineSetting) -> list[str]:
        """`--dtype` and `--enforce-eager`."""
        return setting.vllm_args()

    def build(self, settings: Settings) -> str | None:
        """The vLLM dist-info names of the CPU venv."""
        lib = settings.vllm_python_path.parent.parent / "lib"
        infos = sorted(p.name.removesuffix(".dist-info")
                       for p in lib.glob("python*/site-packages/vllm*.dist-info"))
        return ", ".join(infos) or None


class VllmAdapter(EngineAdapter):
    """`python -m vllm.entrypoints.openai.api_server`; on CPU in the dtype and compile mode
    `workbench.stacks.tuning` chooses for the host (bf16 only with native BF16; compiled
    only where its answers were verified to match fp32 eager's)."""

    kind = "vllm"
    #: vLLM's V1 engine caches prefixes unless told not to (CPU included, v0.32).
    prefix_caching_default = True
    routes_by_model_name = True
    serves_hf_id = True
    run_counter_names = (
        "vllm:prefix_cache_queries", "vllm:prefix_cache_hits", "vllm:prompt_tokens",
        "vllm:prompt_tokens_cached", "vllm:generation_tokens", "vllm:request_success",
        "vllm:request_queue_time_seconds_sum", "vllm:request_queue_time_seconds_count",
        "vllm:request_prefill_time_seconds_sum", "vllm:request_prefill_time_seconds_count",
    )
    load_gauges = MappingProxyType({
        "queue_depth": ("vllm:num_requests_waiting",),
        "running": ("vllm:num_requests_running",),
        "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    })
    metric_prefixes = ("vllm:",)

    def counter_totals(self, counts: Mapping[str, Any]) -> dict[str, float | None] | None:
        """vLLM's own hit rate (prefix-cache hits over queries, in tokens), its prompt and
        cached tokens, prefill time and count, mean queue time."""
        if not any(k.startswith("vllm:") for k in counts):
            return None
        prompt = counter(counts, "vllm:prompt_tokens")
        cached = counter(counts, "vllm:prompt_tokens_cached")
        queries, hits = (counter(counts, "vllm:prefix_cache_queries"),
                         counter(counts, "vllm:prefix_cache_hits"))
        queue = ratio(counter(counts, "vllm:request_queue_time_seconds_sum"),
                      counter(counts, "vllm:request_queue_time_seconds_count"))
        return {
            "prompt": prompt, "cached": cached,
            "hit_rate": ratio(hits, queries) if queries else ratio(cached, prompt),
            "prefill_s": counter(counts, "vllm:request_prefill_time_seconds_sum"),
            "prefills": counter(counts, "vllm:request_prefill_time_seconds_count"),
            "queue_ms": queue * 1000 if queue is not None else None,
        }
    identity_source = "/v1/models and /version"
    version_paths = ("/version",)
    gpu_memory_share_default = VLLM_DEFAULT_SHARE
    tuning: EngineTuning | None = VllmTuning()

    def needs_conversion(self, stack: Stack) -> bool:
        """Native vLLM without `model.hf_id` serves the HF conversion of the GGUF."""
        return stack.launch == "native" and stack.model is not None and stack.model.hf_id is None

    def engine_memory(self, stack: Stack, model_bytes: int) -> int:
        """The engine's own memory, the KV cache and the bf16 weights converted from the GGUF."""
        kv = int(stack.resources.kv_cache_gib * GIB)
        return VLLM_CPU_BASE_BYTES + kv + int(model_bytes * BF16_PER_GGUF_BYTE)

    def probe_identity(self, client: httpx.Client, root: str, model: str,
                       out: dict[str, Any]) -> None:
        """`GET /version`; the context and root from its `/v1/models` entry."""
        code, body = probe_get(client, f"{root}/version")
        if code == 200 and isinstance(body, dict) and body.get("version"):
            out["version"] = f"vLLM {body['version']}"
        served = out.get("served_entry") or {}
        out["context"] = served.get("max_model_len")
        out["details"] = {"root": served.get("root")}

    def check_available(self, stack: Stack, settings: Settings) -> None:
        """Raise when the vLLM venv is missing."""
        python = settings.vllm_python_path
        if stack.variant == "cpu" and not python.is_file():
            raise EngineUnavailableError(
                f"the vLLM CPU venv python {python} does not exist (run `make vllm`)"
            )
        if stack.variant == "gpu" and stack.launch == "native":
            if gpu.vllm_gpu_python() is None or not gpu.has_nvidia_gpu():
                missing = ("no NVIDIA driver is here (no nvidia-smi)" if gpu.vllm_gpu_python()
                           else f"no CUDA vLLM is installed (no `vllm` on PATH, "
                                f"${gpu.VLLM_GPU_PYTHON_ENV} unset)")
                raise EngineUnavailableError(gpu.no_gpu_route(stack, missing))

    def prepare(self, stack: Stack, settings: Settings) -> None:
        """Convert the GGUF to an HF folder once (cached by digest), then tune the engine
        for this host once (cached; see `workbench.stacks.tuning_probe.ensure_tuned`)."""
        self.prepare_model(stack, settings)
        ensure_tuned(stack, settings)

    def prepare_model(self, stack: Stack, settings: Settings) -> None:
        """Convert the GGUF to an HF folder once (cached by digest)."""
        if self.needs_conversion(stack):
            ensure_converted(recipe_gguf(stack), settings)

    def model_path(self, stack: Stack, settings: Settings) -> str:
        """What `--model` gets: the recipe's hf_id, else the cached GGUF conversion."""
        assert stack.model is not None
        if stack.model.hf_id:
            return stack.model.hf_id
        return str(converted_dir(recipe_gguf(stack), settings))

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """The api_server command and its environment, in the setting chosen for the host."""
        if stack.variant == "gpu":
            return self.gpu_process(stack, ctx)
        return self.process_for(stack, ctx, chosen_setting(stack, ctx.settings).setting)

    def process_for(self, stack: Stack, ctx: LaunchContext,
                    setting: EngineSetting) -> EngineProcess:
        """The CPU api_server command under one setting (dtype, eager or compiled)."""
        assert stack.model is not None and stack.ports.engine is not None
        settings = ctx.settings
        python = settings.vllm_python_path
        cache = ctx.run_dir / "vllm-cache"
        rpc = rpc_dir(ctx.run_dir)
        threads = stack.resources.cpuset or f"0-{stack.resources.threads - 1}"
        env = {
            "HF_HUB_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "VLLM_CPU_KVCACHE_SPACE": _gib(stack.resources.kv_cache_gib),
            "VLLM_CPU_OMP_THREADS_BIND": threads,
            # Keep every cache and socket inside the state folder, not /tmp or ~.
            "VLLM_CACHE_ROOT": str(cache),
            "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"),
            "VLLM_RPC_BASE_PATH": str(rpc),
        }
        preload = _preload(python)
        if preload:
            env["LD_PRELOAD"] = preload
        env.update(stack.env)  # the recipe's own env wins
        rpc.mkdir(mode=0o700, parents=True, exist_ok=True)
        argv = [
            *taskset_prefix(stack),
            str(python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", self.model_path(stack, settings),
            *setting.vllm_args(),
            "--max-model-len", str(stack.generation.context_window),
            "--host", stack.host,
            "--port", str(stack.ports.engine),
            "--served-model-name", stack.model.name,
            # Per-request cached prompt tokens in `usage` (the engine counters of a run).
            "--enable-prompt-tokens-details",
            *prefix_caching_args(stack.generation.prefix_caching),
            *stack.engine_args,
        ]  # fmt: skip
        return EngineProcess(argv=argv, env=env, health_timeout_s=600.0)

    def gpu_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """vLLM with CUDA: the CUDA venv's python, the recipe's cards
        (CUDA_VISIBLE_DEVICES) and memory share (--gpu-memory-utilization). No
        `--device cuda`: vLLM 0.10 removed that flag; a CUDA build runs on the GPUs it
        sees. Compiled mode (no --enforce-eager): the wrong-answer bug is a CPU one."""
        assert stack.model is not None and stack.ports.engine is not None
        python = gpu.vllm_gpu_python()
        if python is None:
            raise EngineUnavailableError(gpu.no_gpu_route(stack, "no CUDA vLLM is installed"))
        cache = ctx.run_dir / "vllm-cache"
        rpc = rpc_dir(ctx.run_dir)
        env = {
            "VLLM_NO_USAGE_STATS": "1",
            "VLLM_CACHE_ROOT": str(cache),
            "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"),
            "VLLM_RPC_BASE_PATH": str(rpc),
            **gpu.gpu_env(stack),
            **stack.env,
        }
        rpc.mkdir(mode=0o700, parents=True, exist_ok=True)
        share = gpu.memory_share(stack) or VLLM_DEFAULT_SHARE
        argv = [
            *taskset_prefix(stack),
            str(python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", self.model_path(stack, ctx.settings),
            "--max-model-len", str(stack.generation.context_window),
            "--gpu-memory-utilization", f"{share:g}",
            "--host", stack.host,
            "--port", str(stack.ports.engine),
            "--served-model-name", stack.model.name,
            "--enable-prompt-tokens-details",
            *prefix_caching_args(stack.generation.prefix_caching),
            *stack.engine_args,
        ]  # fmt: skip
        return EngineProcess(argv=argv, env=env, health_timeout_s=900.0)

    def after_stop(self, stack: Stack, ctx: LaunchContext) -> None:
        """Remove the RPC socket folder when it had to live outside the run folder."""
        rpc = rpc_dir(ctx.run_dir)
        if not rpc.is_relative_to(ctx.run_dir):
            shutil.rmtree(rpc, ignore_errors=True)

    def ready(self, stack: Stack) -> bool:
        """/health answers before the model is listed in rare cases: check /v1/models."""
        root = engine_root(stack)
        models = get_json(f"{root}/v1/models") if root else None
        return isinstance(models, dict) and bool(models.get("data"))

    def version(self, stack: Stack) -> str | None:
        """`GET /version`."""
        return reported_version(stack, "/version", "vLLM")


def prefix_caching_args(setting: bool | None) -> list[str]:
    """vLLM's prefix-caching flag for a recipe's `generation.prefix_caching` (none: default)."""
    if setting is None:
        return []
    return ["--enable-prefix-caching" if setting else "--no-enable-prefix-caching"]


def _gib(value: float) -> str:
    # VLLM_CPU_KVCACHE_SPACE is an integer number of GiB.
    return str(max(1, round(value)))


ADAPTER = VllmAdapter()
