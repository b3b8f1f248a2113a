"""Run and Stacks tab handlers without engines: errors become messages, never tracebacks."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import free_port
from workbench.settings import PROJECT_ROOT, Settings
from workbench.stacks.recipe import get_stack
from workbench.web.common import WebConfig
from workbench.web.jobs import RunSnapshot
from workbench.web.run_tab import (
    FIRST_PICKED,
    check_picked,
    poll,
    render_progress,
    resumable_runs,
    start_run,
)
from workbench.web.stacks_tab import launch, log_tail, status_frame
from workbench.web.stacks_tab import poll as stacks_poll


def _config_with_dead_stacks(tmp_path: Path) -> WebConfig:
    """Three recipes on free ports where nothing listens."""
    stacks_dir = tmp_path / "stacks"
    stacks_dir.mkdir()
    base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
    for name in ("dead-a", "dead-b", "dead-c"):
        stack = base.model_copy(update={"name": name}).with_ports(free_port(), free_port())
        (stacks_dir / f"{name}.yaml").write_text(stack.model_dump_json())
    settings = Settings(stacks_dir=stacks_dir, state_dir=tmp_path / "state")
    return WebConfig(settings=settings, db=tmp_path / "web.db", semantic=False)


def test_run_against_unreachable_stacks_fails_with_a_message(tmp_path: Path) -> None:
    cfg = _config_with_dead_stacks(tmp_path)
    _, job, _ = start_run(cfg, "demo-en", ["dead-a", "dead-b", "dead-c"], "dead-b",
                          "interleaved", 2, None)
    assert job is not None
    job.join(timeout=60)
    text, timer = poll(job)
    assert "failed" in text and "Is it up?" in text, text
    assert timer.active is False
    snap = job.snapshot()
    assert snap.stacks == ["dead-a", "dead-b", "dead-c"] and snap.baseline == "dead-b"
    # The failed run is offered for resuming, with its three stacks.
    [(label, rid)] = resumable_runs(cfg)
    assert rid == snap.run_id and "dead-a, dead-b, dead-c" in label and "(0/6)" in label


def test_picked_stacks_are_checked() -> None:
    assert check_picked(["a", "b"], FIRST_PICKED) is None
    assert check_picked(["a", "b", "c"], "c") is None
    # The runner's own rule and words (runner.picks), as a sentence.
    assert check_picked(["a"], None) == "A run compares 2 to 8 stacks, got 1 (a)."
    assert "2 to 8 stacks, got 9" in (check_picked([f"s{i}" for i in range(9)], None) or "")
    assert check_picked(["a", "a"], None) == "A named more than once."
    assert "not one of" in (check_picked(["a", "b"], "c") or "")


def test_progress_panel_per_stack() -> None:
    assert "No run started" in render_progress(None)
    snap = RunSnapshot(state="running", run_id="R1", stacks=["s1", "s2", "s3"], baseline="s1",
                       done={"s1": 3, "s2": 2, "s3": 1}, total=dict.fromkeys(["s1", "s2", "s3"], 4),
                       errors={"s1": 0, "s2": 1, "s3": 0}, mean_e2e_s={"s1": 0.5},
                       messages=[], error=None, elapsed_s=3.0)
    # No store holds run R1: the session's own counts are shown.
    text = render_progress(snap)
    assert "6 of 12 answers in this session" in text
    assert "| s1 (baseline) | 3 / 4 | `█████████░░░` 75% | 0 | 0.50 s |" in text
    assert "| s2 | 2 / 4 |" in text and "| **1** | - |" in text
    assert "| s3 | 1 / 4 |" in text


def test_stacks_tab_lists_recipes_and_reports_a_failed_start(tmp_path: Path) -> None:
    cfg = _config_with_dead_stacks(tmp_path)
    frame = status_frame(cfg)
    assert list(frame["stack"]) == ["dead-a", "dead-b", "dead-c"]
    assert set(frame["state"]) == {"not started"}
    assert "no logs" in log_tail(cfg, "dead-a")
    message, job, _ = launch(cfg, "start", "no-such-stack", None)
    assert job is not None and "Start" in message
    deadline = time.monotonic() + 30
    while job.running and time.monotonic() < deadline:
        time.sleep(0.1)
    message, _, _, timer = stacks_poll(cfg, "no-such-stack", job)
    assert "failed" in message and "unknown stack" in message
    assert timer.active is False
