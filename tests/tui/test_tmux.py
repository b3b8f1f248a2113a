"""`workbench tui --db` in a real terminal (tmux): keys in, screen text out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from workbench.report.stored import scorecard_for_run
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run

pytestmark = pytest.mark.slow
WORKBENCH = Path(sys.executable).with_name("workbench")
ARTIFACTS = ROOT / "test-artifacts" / "tui"


@pytest.fixture
def tmux_session(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A detached 100x30 tmux session (its own server socket); yields `capture(keys)`."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    socket = str(tmp_path / "tmux.sock")
    name = "wbtui"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-S", socket, *args], check=True, capture_output=True,
                              text=True).stdout

    def send(keys: str) -> str:
        if keys:
            tmux("send-keys", "-t", name, keys)
        return tmux("capture-pane", "-p", "-t", name)

    db = tmp_path / "workbench.db"
    with Store(db) as store:
        run_id = store_synthetic_run(store, 30, stacks=3)
        scorecard_for_run(store, run_id, semantic=False)  # cached: the screen opens at once
    env = {**os.environ, "WORKBENCH_STATE_DIR": str(tmp_path / "state"), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    subprocess.run(
        ["tmux", "-S", socket, "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
         f"{WORKBENCH} tui --db {db} --no-semantic"],
        check=True, env=env,
    )
    try:
        yield send
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)


def wait_for_text(send: Callable[[str], str], text: str, seconds: float = 90) -> str:
    """Capture the pane until `text` is on it."""
    deadline = time.monotonic() + seconds
    pane = ""
    while time.monotonic() < deadline:
        pane = send("")
        if text in pane:
            return pane
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared; the pane shows:\n{pane}")


def test_tui_in_a_real_terminal(tmux_session: Callable[[str], str]) -> None:
    send = tmux_session
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pane = wait_for_text(send, "30 of 30 questions")
    (ARTIFACTS / "tui-results.txt").write_text(pane)
    assert "Recommendation" in pane and "Leaderboard" in pane
    assert "3: llamacpp-cpu-qwen05" in pane and "1: llamacpp-cpu" in pane
    send("w")
    pane = wait_for_text(send, "filter: wins")
    send("v")
    pane = wait_for_text(send, "vllm-cpu vs llamacpp-cpu")
    assert "Token F1 *" in pane
    (ARTIFACTS / "tui-results-comparisons.txt").write_text(pane)
    send("4")
    pane = wait_for_text(send, "Runs (1)")
    assert "synthetic" in pane and "completed" in pane
    assert "llamacpp-cpu*, vllm-cpu, llamacpp-cpu-qwen05" in pane
    send("q")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            send("")
        except subprocess.CalledProcessError:
            return  # the app quit, so the session (and its server) ended
        time.sleep(0.3)
    raise AssertionError("q did not quit the app")
