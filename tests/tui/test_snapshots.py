"""Snapshots of the main screens on a deterministic stored run (update: --snapshot-update).

Run ids and timestamps are pinned (conftest `fixed_ids`), the synthetic run is seeded, and
nothing on these screens shows the clock, so the pictures are the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle

Snap = Callable[..., bool]


def test_results_wide(workspace: Workspace, snap_compare: Snap) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_results_80x24_wins(workspace: Workspace, snap_compare: Snap) -> None:
    async def wins(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("w")

    app = workspace.app(run_id=workspace.run_ids[1])
    assert snap_compare(app, terminal_size=(80, 24), run_before=wins)


def test_detail(workspace: Workspace, snap_compare: Snap) -> None:
    async def open_detail(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("enter")

    app = workspace.app(run_id=workspace.run_ids[1])
    assert snap_compare(app, terminal_size=(100, 30), run_before=open_detail)


def test_history_compare(workspace: Workspace, snap_compare: Snap) -> None:
    async def compare(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("m", "down", "m", "c")
        await settle(pilot)

    app = workspace.app(start_mode="history")
    assert snap_compare(app, terminal_size=(100, 30), run_before=compare)


def test_stacks(workspace: Workspace, snap_compare: Snap) -> None:
    app = workspace.app(start_mode="stacks")
    assert snap_compare(app, terminal_size=(100, 30), run_before=settle)


def test_run_form(workspace: Workspace, snap_compare: Snap) -> None:
    app = workspace.app(start_mode="run")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
