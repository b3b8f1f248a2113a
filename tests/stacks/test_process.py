"""Process groups: stopping takes the whole group, escalating to SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port
from workbench.stacks.process import (
    LaunchError,
    NotReadyInTimeError,
    Server,
    alive,
    exit_status,
    port_in_use,
    spawn,
    stop_group,
    tail,
    wait_healthy,
)

# A parent that ignores SIGTERM and a grandchild that does too: only SIGKILL ends them.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
print("up" + "-and-running", flush=True)
time.sleep(300)
"""


def test_stop_group_kills_children_that_ignore_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "p.log"
    pid = spawn([sys.executable, "-c", STUBBORN], {}, log)
    deadline = time.monotonic() + 20
    while "up-and-running" not in tail(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    members = [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    assert len(members) == 2
    started = time.monotonic()
    stop_group(pid, grace_s=1.0)
    assert time.monotonic() - started >= 1.0  # waited for SIGTERM before SIGKILL
    assert not any(alive(p) for p in members)


def test_port_in_use() -> None:
    port = free_port()
    assert not port_in_use("127.0.0.1", port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        assert port_in_use("127.0.0.1", port)


def _http_server(tmp_path: Path, port: int) -> Server:
    return Server("test server", [sys.executable, "-m", "http.server", str(port), "--bind",
                                  "127.0.0.1", "--directory", str(tmp_path)],
                  f"http://127.0.0.1:{port}/", tmp_path / "server.log", timeout_s=30)


def test_server_starts_again_on_its_port_and_stops_a_frozen_group(tmp_path: Path) -> None:
    """What the chaos lab does to a RAG service: kill -9, start again, freeze, stop."""
    port = free_port()
    server = _http_server(tmp_path, port)
    with server:
        first = server.pid
        os.killpg(first, signal.SIGKILL)
        server.reap()
        assert not server.running and exit_status(first) == -signal.SIGKILL
        server.start()
        assert server.pid != first and server.running and port_in_use("127.0.0.1", port)
        os.killpg(server.pid, signal.SIGSTOP)
        started = time.monotonic()
        # Continued first, so SIGTERM ends it well before the 10 s SIGKILL escalation.
        assert server.stop() == -signal.SIGTERM
        assert time.monotonic() - started < 5
    assert not server.running


def test_server_that_dies_before_healthy_fails_with_its_log(tmp_path: Path) -> None:
    server = Server("doomed", [sys.executable, "-c", "print('no model file'); raise SystemExit(3)"],
                    f"http://127.0.0.1:{free_port()}/", tmp_path / "doomed.log", timeout_s=30)
    with pytest.raises(LaunchError, match="doomed exited before it was healthy") as err:
        server.start()
    assert "no model file" in str(err.value) and exit_status(server.pid) == 3


def test_a_server_still_starting_when_its_time_is_up_is_told_from_one_that_died(
        tmp_path: Path) -> None:
    """The tuning probe calls the first slow (not tried, on a busy host) and the second a
    failed setting: the two must raise different errors."""
    log = tmp_path / "x.log"
    url = f"http://127.0.0.1:{free_port()}/health"  # nothing listens: never healthy
    sleeper = spawn([sys.executable, "-c", "import time; time.sleep(30)"], {}, log)
    try:
        with pytest.raises(NotReadyInTimeError, match=r"not healthy at .* within 1 s"):
            wait_healthy(url, sleeper, 1.0, "sleeper", ["sleep"], log)
    finally:
        stop_group(sleeper)
    quitter = spawn([sys.executable, "-c", "pass"], {}, log)
    time.sleep(1.0)
    with pytest.raises(LaunchError) as died:
        wait_healthy(url, quitter, 5.0, "quitter", ["true"], log)
    assert not isinstance(died.value, NotReadyInTimeError)
    assert "exited before it was healthy" in str(died.value)
