"""Stacks screen: recipes with live state, start/stop by key, the log tail."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.fakes.seed_backend import seed_server, write_external_stack
from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.stacks.state import run_dir
from workbench.tui.screens.stacks import StacksScreen
from workbench.tui.widgets.log_tail import LogTail, tail_lines


def state_of(table: DataTable[object], name: str) -> str:
    return str(table.get_row(name)[2])


async def test_start_stop_and_log(workspace: Workspace) -> None:
    log = run_dir("vllm-cpu", workspace.settings) / "engine.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(300)))
    with seed_server() as url:
        write_external_stack(workspace.settings.stacks_dir, "ext-a", url)
        app = workspace.app(start_mode="stacks")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, StacksScreen)
            table = screen.query_one("#stacks-table", DataTable)
            assert [k.value for k in table.rows] == ["ext-a", "llamacpp-cpu", "vllm-cpu"]
            assert state_of(table, "ext-a") == "○ down"
            # u starts the highlighted stack in a thread; the poll then shows it running.
            await pilot.press("u")
            await settle(pilot)
            await settle(pilot)
            assert state_of(table, "ext-a") == "● running"
            await pilot.press("d")
            await settle(pilot)
            await settle(pilot)
            assert state_of(table, "ext-a") == "○ down"
            # The log follows the highlighted stack (vllm-cpu: its stopped run's log).
            await pilot.press("down", "down")
            await settle(pilot)
            tail = screen.query_one(LogTail)
            assert tail.border_title == "Log of vllm-cpu"
            assert tail.lines[-1] == "line 299" and "line 99" not in tail.lines


async def test_start_failure_is_notified(workspace: Workspace) -> None:
    # An external stack whose backend is not there: `up` fails, the user is told.
    write_external_stack(workspace.settings.stacks_dir, "ext-a", "http://127.0.0.1:9")
    app = workspace.app(start_mode="stacks")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "ext-a" in errors[0].message


def test_tail_lines_reads_only_the_end(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "big.log"
    path.write_text("".join(f"{i:06d}\n" for i in range(100_000)))
    assert tail_lines(path, 3) == ["099997", "099998", "099999"]
    assert tail_lines(path.with_name("missing.log")) == []
