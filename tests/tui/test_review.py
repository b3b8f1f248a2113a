"""The review screen: keep, edit and drop generated questions with the keyboard (Textual
pilot), and the same screen in a real 80x24 terminal (tmux) from `workbench evalsets review`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import ROOT
from tests.evalsets.build_docs import reviewable_set
from workbench.evalsets import load_evalset
from workbench.evalsets.builder.review import ReviewSet
from workbench.tui.screens.review import ReviewApp, ReviewScreen

ARTIFACTS = ROOT / "test-artifacts" / "tui"


async def test_keep_drop_and_edit_from_the_keyboard(tmp_path: Path) -> None:
    folder = reviewable_set(tmp_path)
    app = ReviewApp(ReviewSet.open(folder))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.current_id == "it-guide.md#0:q1"
        passage = str(screen.query_one("#review-passage-text", Static).render())
        assert "Tidewater" in passage
        await pilot.press("k")  # keep the first
        await pilot.press("down", "d")  # drop the second
        await pilot.pause()
        assert ReviewSet.open(folder).status("it-guide.md#0:q2") == "dropped"
        # The cursor stays on the dropped question (now listed last); go to the third.
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("office.html#0:q1"))
        await pilot.pause()
        await pilot.press("e")
        question = screen.query_one("#review-question", Input)
        assert question.has_focus and question.value == "On which lane is the headquarters?"
        question.value = "What is the headquarters' street address?"
        await pilot.press("enter")
        await pilot.pause()
        counts = str(screen.query_one("#review-counts", Static).render())
        assert "1 new, 1 kept, 1 edited; 1 dropped" in counts
    on_disk = ReviewSet.open(folder)
    assert on_disk.status("it-guide.md#0:q1") == "kept"
    assert on_disk.find("office.html#0:q1")["question"] == \
        "What is the headquarters' street address?"
    assert len(load_evalset(folder).questions) == 3


async def test_a_bad_edit_is_refused_with_a_message_and_nothing_changes(tmp_path: Path) -> None:
    folder = reviewable_set(tmp_path)
    before = (folder / "questions.jsonl").read_bytes()
    app = ReviewApp(ReviewSet.open(folder))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#review-answer", Input).value = "Keelhaul"
        screen.query_one("#review-answer", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert any("does not appear in passage" in str(n.message) for n in app._notifications)
    assert (folder / "questions.jsonl").read_bytes() == before


@pytest.mark.slow
def test_review_command_in_a_real_80x24_terminal(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    folder = reviewable_set(tmp_path)
    socket = str(tmp_path / "tmux.sock")
    workbench = Path(sys.executable).with_name("workbench")
    env = {**os.environ, "TERM": "xterm-256color"}

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-S", socket, *args], check=True, capture_output=True,
                              text=True, env=env).stdout

    tmux("new-session", "-d", "-s", "rv", "-x", "80", "-y", "24",
         f"{workbench} evalsets review {folder}")
    try:
        screen = ""
        deadline = time.monotonic() + 60
        while "Tidewater" not in screen and time.monotonic() < deadline:
            time.sleep(0.5)
            screen = tmux("capture-pane", "-p", "-t", "rv")
        assert "4 in the set: 4 new" in screen, screen
        tmux("send-keys", "-t", "rv", "d")
        deadline = time.monotonic() + 20
        while "1 dropped" not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = tmux("capture-pane", "-p", "-t", "rv")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "review-80x24.txt").write_text(screen, "utf-8")
        assert "3 in the set: 3 new, 0 kept, 0 edited; 1 dropped" in screen, screen
        assert ReviewSet.open(folder).status("it-guide.md#0:q1") == "dropped"
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)
