"""History screen: runs, manifests, comparing two runs; the command palette and NO_COLOR."""

from __future__ import annotations

import json

import pytest
from textual.filter import Monochrome
from textual.widgets import DataTable

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.report.stored import scorecard_for_run
from workbench.report.verdict import format_value
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.history import HistoryScreen
from workbench.tui.screens.results import ResultsScreen


async def test_runs_manifest_and_open(workspace: Workspace) -> None:
    app = workspace.app(start_mode="history")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#runs-table", DataTable)
        assert [k.value for k in table.rows] == workspace.run_ids
        stacks = [str(table.get_row(k)[2]) for k in workspace.run_ids]
        assert stacks == ["llamacpp-cpu*, vllm-cpu", "llamacpp-cpu*, vllm-cpu, llamacpp-cpu-qwen05",
                          "llamacpp-cpu*, vllm-cpu"]
        assert '"digest": "seed-3"' in screen.manifest_text  # the newest run is highlighted first
        await pilot.press("down")
        await pilot.pause()
        assert '"digest": "seed-7"' in screen.manifest_text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        assert app.screen.loaded_run == workspace.run_ids[1]


async def test_compare_two_marked_runs(workspace: Workspace) -> None:
    app = workspace.app(start_mode="history")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m", "down", "m", "c")
        await settle(pilot)
        compare = app.screen.query_one("#compare-table", DataTable)
        rows = [[str(x) for x in compare.get_row_at(i)] for i in range(compare.row_count)]
        with workspace.store() as store:
            cards = [scorecard_for_run(store, r, semantic=False) for r in workspace.run_ids[:2]]
        # One row per (run, stack): two stacks of run 1, three of run 2.
        assert [r[:2] for r in rows] == [
            ["run 1", "llamacpp-cpu*"], ["run 1", "vllm-cpu"], ["run 2", "llamacpp-cpu*"],
            ["run 2", "vllm-cpu"], ["run 2", "llamacpp-cpu-qwen05"]]
        qwen = cards[1].summaries["llamacpp-cpu-qwen05"]
        assert rows[4][2] == format_value(qwen.quality["f1"], "")
        assert rows[4][6] == format_value(qwen.latency["e2e"].p50, "s")
        assert "●" in str(app.screen.query_one("#runs-table", DataTable).get_row_at(0)[0])


async def test_command_palette_goes_to_a_screen(workspace: Workspace) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to history")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)


async def test_no_color_is_respected(workspace: Workspace,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = workspace.app(run_id=workspace.run_ids[1])
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Textual drops every colour through its Monochrome filter at render time.
        assert any(isinstance(f, Monochrome) for f in app._filters)
        svg = app.export_screenshot()
        assert "Recommendation" in svg and "Leaderboard" in svg


def test_manifest_is_pretty_json(workspace: Workspace) -> None:
    with workspace.store() as store:
        manifest = store.get_run(workspace.run_ids[0])["manifest"]
    assert json.loads(json.dumps(manifest, indent=2)) == manifest
    assert WorkbenchApp.SCREEN_KEYS["history"] == ("4", "History")
