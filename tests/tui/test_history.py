"""History screen: runs, manifests, comparing two runs; the command palette and NO_COLOR."""

from __future__ import annotations

import json

import pytest
from textual.filter import Monochrome
from textual.widgets import DataTable

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.report.stored import scorecard_for_run
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.history import HistoryScreen
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.widgets.scorecard import comparison_cells


async def test_runs_manifest_and_open(workspace: Workspace) -> None:
    app = workspace.app(start_mode="history")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#runs-table", DataTable)
        assert [k.value for k in table.rows] == workspace.run_ids
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
        rows = {str(compare.get_row_at(i)[0]): [str(x) for x in compare.get_row_at(i)]
                for i in range(compare.row_count)}
        with workspace.store() as store:
            cards = [scorecard_for_run(store, r, semantic=False) for r in workspace.run_ids]
        f1 = [comparison_cells(c.comparison("f1")) for c in cards]
        assert rows["Token F1"][1:] == [f1[0][1], f1[0][2], f1[1][1], f1[1][2]]
        assert rows["pairs"][1] == str(cards[0].n_pairs)
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
        assert "Scorecard" in svg


def test_manifest_is_pretty_json(workspace: Workspace) -> None:
    with workspace.store() as store:
        manifest = store.get_run(workspace.run_ids[0])["manifest"]
    assert json.loads(json.dumps(manifest, indent=2)) == manifest
    assert WorkbenchApp.SCREEN_KEYS["history"] == ("4", "History")
