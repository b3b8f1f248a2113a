"""Run and Stacks tab handlers without engines: errors become messages, never tracebacks."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import free_port
from workbench.settings import PROJECT_ROOT, Settings
from workbench.stacks.recipe import get_stack
from workbench.web.common import WebConfig
from workbench.web.run_tab import poll, render_progress, resumable_runs, start_run
from workbench.web.stacks_tab import launch, log_tail, status_frame
from workbench.web.stacks_tab import poll as stacks_poll


def _config_with_dead_stacks(tmp_path: Path) -> WebConfig:
    """Two recipes on free ports where nothing listens."""
    stacks_dir = tmp_path / "stacks"
    stacks_dir.mkdir()
    base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
    for name in ("dead-a", "dead-b"):
        stack = base.model_copy(update={"name": name}).with_ports(free_port(), free_port())
        (stacks_dir / f"{name}.yaml").write_text(stack.model_dump_json())
    settings = Settings(stacks_dir=stacks_dir, state_dir=tmp_path / "state")
    return WebConfig(settings=settings, db=tmp_path / "web.db", semantic=False)


def test_run_against_unreachable_stacks_fails_with_a_message(tmp_path: Path) -> None:
    cfg = _config_with_dead_stacks(tmp_path)
    _, job, _ = start_run(cfg, "demo-en", "dead-a", "dead-b", "interleaved", 2, None)
    assert job is not None
    job.join(timeout=60)
    text, timer = poll(job)
    assert "failed" in text and "Is it up?" in text, text
    assert timer.active is False
    # The failed run is offered for resuming.
    assert [rid for _, rid in resumable_runs(cfg)] == [job.snapshot().run_id]


def test_progress_panel_without_a_job() -> None:
    assert "No run started" in render_progress(None)


def test_stacks_tab_lists_recipes_and_reports_a_failed_start(tmp_path: Path) -> None:
    cfg = _config_with_dead_stacks(tmp_path)
    frame = status_frame(cfg)
    assert list(frame["stack"]) == ["dead-a", "dead-b"]
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
