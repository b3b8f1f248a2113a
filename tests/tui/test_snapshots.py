"""Snapshots of the main screens on a deterministic stored run (update: --snapshot-update).

Run ids and timestamps are pinned (conftest `fixed_ids`), the synthetic run is seeded, and
nothing on these screens shows the clock, so the pictures are the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
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


def test_results_votes_80x24(workspace: Workspace, snap_compare: Snap) -> None:
    from tests.tui.live_helpers import add_votes

    with workspace.store() as store:
        add_votes(store, workspace.run_ids[1])

    async def votes(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("v", "v", "v")
        await settle(pilot)

    app = workspace.app(run_id=workspace.run_ids[1])
    assert snap_compare(app, terminal_size=(80, 24), run_before=votes)


def test_results_live_80x24(workspace: Workspace, snap_compare: Snap,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from tests.tui.live_helpers import store_running_run

    # The synthetic answers were started at 2026-01-01T00:00:00Z: "12 s ago", always.
    monkeypatch.setattr("workbench.tui.widgets.live_run.now",
                        lambda: datetime.fromisoformat("2026-01-01T00:00:12+00:00"))
    with workspace.store() as store:
        run_id, _ = store_running_run(store, 50)
    app = workspace.app(run_id=run_id)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
