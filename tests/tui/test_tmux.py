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
from tests.tui.live_helpers import add_votes
from workbench.report.stored import scorecard_for_run
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run

pytestmark = pytest.mark.slow
WORKBENCH = Path(sys.executable).with_name("workbench")
ARTIFACTS = ROOT / "test-artifacts" / "tui"


@pytest.fixture
def tmux_session(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A detached 100x30 tmux session (its own server socket); yields `capture(keys)`."""
    yield from _session(tmp_path, 100, 30)


def _session(tmp_path: Path, cols: int, rows: int, votes: int = 0
             ) -> Iterator[Callable[[str], str]]:
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
        if votes:
            add_votes(store, run_id, votes)
    env = {**os.environ, "WORKBENCH_STATE_DIR": str(tmp_path / "state"), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    subprocess.run(
        ["tmux", "-S", socket, "new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows),
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


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_the_decision_first_at_80x24_and_120x40(tmp_path: Path, size: tuple[int, int]) -> None:
    cols, rows = size
    session = _session(tmp_path, cols, rows, votes=40)
    send = next(session)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pane = wait_for_text(send, "Leaderboard")
        pane = wait_for_text(send, "3: llamacpp-cpu-qwen05")
        (ARTIFACTS / f"tui-results-{cols}x{rows}.txt").write_text(pane)
        lines = pane.splitlines()
        assert len(lines) == rows and all(len(line) <= cols for line in lines)
        # Headline, one reason per other stack, then the leaderboard, all on screen.
        choose = next(i for i, line in enumerate(lines) if "Choose " in line)
        reasons = [i for i, line in enumerate(lines) if "• #" in line]
        board = next(i for i, line in enumerate(lines) if "Leaderboard" in line)
        assert len(reasons) == 2 and choose < reasons[0] < reasons[1] < board
        for tag in ("1: llamacpp-cpu", "2: vllm-cpu", "3: llamacpp-cpu-qwen05"):
            assert any(tag in line for line in lines[board:]), tag
        for _ in range(3):
            send("v")
        pane = wait_for_text(send, "Vote rating [95% CI]")
        (ARTIFACTS / f"tui-votes-{cols}x{rows}.txt").write_text(pane)
        assert "Human votes · 40 arena votes" in pane
    finally:
        session.close()
