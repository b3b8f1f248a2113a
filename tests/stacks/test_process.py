"""Process groups: stopping takes the whole group, escalating to SIGKILL."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import psutil

from tests.conftest import free_port
from workbench.stacks.process import alive, port_in_use, spawn, stop_group, tail

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
