"""Run screen: start a real run of three (fake seed) backends, cancel a two-stack one,
resume it."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.fakes.seed_backend import seed_server, write_external_stack
from tests.tui.conftest import Workspace
from workbench.tui.screens.run import RunScreen, check_picked
from workbench.tui.widgets.stack_picker import StackPicker
from workbench.tui.widgets.stack_progress import StackProgress


async def wait_for(pilot: Pilot[None], ready: Callable[[], bool], seconds: float = 60) -> None:
    """Pause until `ready()` (the run's worker posts its results on the loop)."""
    for _ in range(int(seconds / 0.05)):
        if ready():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the run")


async def start(pilot: Pilot[None], screen: RunScreen, stacks: list[str],
                baseline: str | None = None) -> None:
    """Pick the fake stacks (in this order) and the baseline, then press s."""
    await pilot.pause()
    screen.query_one(StackPicker).set_picked(stacks)
    if baseline:
        screen.query_one("#baseline", Select).value = baseline
    screen.query_one("#limit", Input).value = ""
    await pilot.press("s")


def test_picked_stacks_are_checked() -> None:
    assert check_picked(["a", "b"], None) is None
    assert "2 to 8 stacks, got 1 (a) (space picks" in (check_picked(["a"], None) or "")
    assert "2 to 8 stacks, got 9" in (check_picked([f"s{i}" for i in range(9)], None) or "")
    assert "named more than once" in (check_picked(["a", "a"], None) or "")
    assert "not one of" in (check_picked(["a", "b"], "c") or "")


async def test_three_stacks_to_completion(workspace: Workspace) -> None:
    with seed_server() as url_a, seed_server() as url_b, seed_server() as url_c:
        for name, url in (("ext-a", url_a), ("ext-b", url_b), ("ext-c", url_c)):
            write_external_stack(workspace.settings.stacks_dir, name, url)
        app = workspace.app(start_mode="run")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunScreen)
            assert screen.query_one("#evalset", Select).value == "mini"
            await start(pilot, screen, ["ext-c", "ext-a", "ext-b"], baseline="ext-a")
            await wait_for(pilot, lambda: screen.phase == "completed")
            for name in ("ext-c", "ext-a", "ext-b"):
                progress = screen.progress_of(name)
                assert progress is not None
                assert (progress.done, progress.total, progress.errors) == (4, 4, 0)
                assert progress.mean_e2e is not None and progress.mean_e2e > 0
                assert " 4/4 err 0" in str(progress.query_one(".metrics").render())
            assert [p.stack for p in screen.query(StackProgress)] == ["ext-c", "ext-a",
                                                                        "ext-b"]
            run_id = screen.run_id
            assert run_id is not None and app.run_id == run_id
    with workspace.store() as store:
        assert store.get_run(run_id)["status"] == "completed"
        assert store.count_responses(run_id) == 12
        assert list(store.recipes(run_id)) == ["ext-c", "ext-a", "ext-b"]
        assert store.baseline(run_id) == "ext-a"


async def test_cancel_then_resume(workspace: Workspace) -> None:
    with seed_server(delay_s=0.25) as url_a, seed_server(delay_s=0.25) as url_b:
        write_external_stack(workspace.settings.stacks_dir, "ext-a", url_a)
        write_external_stack(workspace.settings.stacks_dir, "ext-b", url_b)
        app = workspace.app(start_mode="run")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await start(pilot, screen, ["ext-a", "ext-b"])
            await wait_for(pilot, lambda: screen.progress_of("ext-a") is not None)
            progress_a = screen.progress_of("ext-a")
            assert progress_a is not None
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
            # The resumed run asks only the missing pairs.
            totals = [screen.progress_of(s) for s in ("ext-a", "ext-b")]
            assert sum(p.total for p in totals if p is not None) == 8 - kept
    with workspace.store() as store:
        assert store.get_run(run_id)["status"] == "completed"
        assert store.count_responses(run_id) == 8
        assert len(store.answered(run_id)) == 8
