"""Run screen: start a real run against two (fake seed) backends, cancel it, resume it."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.fakes.seed_backend import seed_server, write_external_stack
from tests.tui.conftest import Workspace
from workbench.tui.screens.run import RunScreen
from workbench.tui.widgets.side_progress import SideProgress


async def wait_for(pilot: Pilot[None], ready: Callable[[], bool], seconds: float = 60) -> None:
    """Pause until `ready()` (the run's worker posts its results on the loop)."""
    for _ in range(int(seconds / 0.05)):
        if ready():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the run")


async def start(pilot: Pilot[None], screen: RunScreen) -> None:
    """Choose the mini eval set and the two fake stacks, then press s."""
    screen.query_one("#stack-a", Select).value = "ext-a"
    screen.query_one("#stack-b", Select).value = "ext-b"
    screen.query_one("#limit", Input).value = ""
    await pilot.press("s")


async def test_run_to_completion(workspace: Workspace) -> None:
    with seed_server() as url_a, seed_server() as url_b:
        write_external_stack(workspace.settings.stacks_dir, "ext-a", url_a)
        write_external_stack(workspace.settings.stacks_dir, "ext-b", url_b)
        app = workspace.app(start_mode="run")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunScreen)
            assert screen.query_one("#evalset", Select).value == "mini"
            await start(pilot, screen)
            await wait_for(pilot, lambda: screen.phase == "completed")
            for side in ("a", "b"):
                progress = screen.query_one(f"#progress-{side}", SideProgress)
                assert (progress.done, progress.total, progress.errors) == (4, 4, 0)
                assert progress.mean_e2e is not None and progress.mean_e2e > 0
                assert "done 4/4" in str(progress.query_one(".metrics").render())
            run_id = screen.run_id
            assert run_id is not None and app.run_id == run_id
    with workspace.store() as store:
        assert store.get_run(run_id)["status"] == "completed"
        assert store.count_responses(run_id) == 8


async def test_cancel_then_resume(workspace: Workspace) -> None:
    with seed_server(delay_s=0.25) as url_a, seed_server(delay_s=0.25) as url_b:
        write_external_stack(workspace.settings.stacks_dir, "ext-a", url_a)
        write_external_stack(workspace.settings.stacks_dir, "ext-b", url_b)
        app = workspace.app(start_mode="run")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await start(pilot, screen)
            progress_a = screen.query_one("#progress-a", SideProgress)
            await wait_for(pilot, lambda: progress_a.done >= 1)
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.phase == "cancelled")
            run_id = screen.run_id
            assert run_id is not None
            with workspace.store() as store:
                assert store.get_run(run_id)["status"] == "cancelled"
                kept = store.count_responses(run_id)
            assert 1 <= kept < 8
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.phase == "completed")
            progress_b = screen.query_one("#progress-b", SideProgress)
            # The resumed run asks only the missing pairs.
            assert progress_a.total + progress_b.total == 8 - kept
    with workspace.store() as store:
        assert store.get_run(run_id)["status"] == "completed"
        assert store.count_responses(run_id) == 8
        assert len(store.answered(run_id)) == 8
