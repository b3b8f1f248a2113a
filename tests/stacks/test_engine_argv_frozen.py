"""Every shipped recipe's engine command, environment and engine facts, frozen.

Written before the engine facts moved into the adapters (issue #25, point 3) from the code
as it was, and kept since: a refactor of the adapters must start the same processes with
the same environment, and answer the same capacity, GPU share, conversion, tuning and
prefix-caching questions, for every recipe in `stacks/`, on CPU and on GPU.

The host is fixed (a two-core AVX2 CPU without native BF16; stand-in CUDA executables on
PATH, no Docker; the fake `ollama`; a stand-in `text-generation-launcher`), so the file
holds for any machine. Paths that differ per machine are written as `<tmp>`, `<repo>`,
`<cache>`, `<venv>`. To rewrite the file after a deliberate change:
`WORKBENCH_FREEZE_ARGV=write .venv/bin/pytest tests/stacks/test_engine_argv_frozen.py`,
then read the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import workbench
from workbench.host.facts import CpuFacts
from workbench.runner.manifest import prefix_caching
from workbench.settings import Settings
from workbench.stacks import capacity, conversion, gpu, tuning
from workbench.stacks.engines import EngineUnavailableError, LaunchContext, adapter_for
from workbench.stacks.recipe import Stack, load_stacks

FROZEN = Path(__file__).with_name("engine_argv_frozen.json")
REPO = Path(__file__).resolve().parents[2]
HOST = CpuFacts(model="Frozen AVX2 CPU", flags=("avx2",), cores=2, usable_cores=2,
                cpu_quota=None, kernel="6.0")


def _exe(folder: Path, name: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def frozen_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for the CUDA engines, nvidia-smi, ollama and TGI's launcher; no docker;
    the fixed CPU in every module that reads the CPU's facts; tuning off (the host rule)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("vllm", "python", "llama-server", "nvidia-smi", "ollama",
                 "text-generation-launcher"):
        _exe(bin_dir, name)
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "docker").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), *keep]))
    monkeypatch.delenv("WORKBENCH_VLLM_GPU_PYTHON", raising=False)
    monkeypatch.delenv("WORKBENCH_LLAMA_SERVER_GPU", raising=False)
    monkeypatch.setenv("WORKBENCH_TUNE", "off")
    for name, module in list(sys.modules.items()):
        if name.startswith("workbench.") and callable(getattr(module, "cpu_facts", None)):
            monkeypatch.setattr(module, "cpu_facts", lambda *a, **k: HOST)
    return bin_dir


def _variants(stacks: dict[str, Stack]) -> dict[str, Stack]:
    """Each shipped recipe, each native one also on the other variant, and each engine
    with prefix caching switched on and off."""
    out: dict[str, Stack] = {}
    for name, stack in sorted(stacks.items()):
        out[name] = stack
        if stack.launch == "native":
            other = "gpu" if stack.variant == "cpu" else "cpu"
            update: dict[str, Any] = {"variant": other}
            if other == "gpu":
                update["resources"] = stack.resources.model_copy(update={"gpus": "0"})
            out[f"{name}@{other}"] = stack.model_copy(update=update)
        for on in (True, False):
            gen = stack.generation.model_copy(update={"prefix_caching": on})
            out[f"{name}+prefix={on}"] = stack.model_copy(update={"generation": gen})
    tgi = stacks["tgi-remote"]
    out["tgi-native"] = tgi.model_copy(update={
        "launch": "native", "engine_url": None,
        "ports": tgi.ports.model_copy(update={"engine": 8301}),
        "resources": tgi.resources.model_copy(update={"gpus": "1"})})
    return out


def _facts(stack: Stack, settings: Settings, run_dir: Path) -> dict[str, Any]:
    adapter = adapter_for(stack)
    ctx = LaunchContext(settings=settings, run_dir=run_dir)
    out: dict[str, Any] = {}
    try:
        adapter.check_available(stack, settings)
        out["available"] = True
    except EngineUnavailableError as exc:
        out["available"] = str(exc)
    if stack.model is not None and stack.launch != "compose":
        try:
            proc = adapter.engine_process(stack, ctx)
        except EngineUnavailableError as exc:
            out["process"] = str(exc)
        else:
            out["process"] = None if proc is None else {
                "argv": proc.argv, "env": proc.env, "health_timeout_s": proc.health_timeout_s}
    out["start"] = adapter.start_commands(stack, ctx)
    out["stop"] = adapter.stop_commands(stack, ctx)
    out["command_env"] = adapter.command_env(stack, ctx)
    out["health_url"] = adapter.health_url(stack)
    out["memory"] = capacity.stack_memory(stack)
    out["gpu_share"] = gpu.memory_share(stack)
    out["conversion"] = conversion.needs_conversion(stack)
    out["tunable"] = tuning.tunable(stack)
    out["pins"] = tuning.recipe_pins(stack)
    if out["tunable"] is None:
        out["candidates"] = [c.label for c in tuning.candidates(stack, HOST)]
        out["host_rule"] = tuning.host_rule(stack, HOST).label
    out["tuning_flags"] = tuning.tuning_record(stack, settings)["flags"]
    out["prefix_caching"] = prefix_caching(stack)
    return out


def _normalise(value: Any, paths: list[tuple[str, str]]) -> Any:
    text = json.dumps(value, sort_keys=True)
    for path, name in paths:
        text = text.replace(path, name)
    # The short RPC folder outside a long run folder is named by a hash of that folder.
    return json.loads(re.sub(r"wb-vllm-rpc-[0-9a-f]{12}", "wb-vllm-rpc-<hash>", text))


def collect(settings: Settings, tmp_path: Path) -> dict[str, Any]:
    """The frozen facts of every variant of every shipped recipe."""
    stacks = load_stacks(REPO / "stacks")
    # A short run folder: vLLM's RPC folder moves out of a run folder longer than 70
    # characters (vllm.rpc_dir), and pytest's own tmp_path grew past that once this
    # machine's pytest-NNNN counter reached four digits; "/tmp/f.../run" never does.
    short = Path(tempfile.mkdtemp(prefix="f", dir="/tmp"))
    try:
        facts = {name: _facts(stack, settings, short / "run")
                 for name, stack in _variants(stacks).items()}
    finally:
        shutil.rmtree(short, ignore_errors=True)
    venv = str(Path(sys.prefix))
    paths = sorted([(str(short), "<tmp>"), (str(tmp_path), "<tmp>"),
                    (str(settings.cache_dir), "<cache>"),
                    (venv, "<venv>"), (str(REPO), "<repo>"),
                    (str(Path(workbench.__file__).parents[1]), "<repo>")],
                   key=lambda p: -len(p[0]))
    return dict(_normalise(facts, paths))


def test_every_recipe_starts_the_frozen_engine_command(
        frozen_host: Path, settings: Settings, tmp_path: Path) -> None:
    got = collect(settings, tmp_path)
    if os.environ.get("WORKBENCH_FREEZE_ARGV") == "write":
        FROZEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"wrote {FROZEN}")
    want = json.loads(FROZEN.read_text())
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name
