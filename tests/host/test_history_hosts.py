"""History marks runs from different hosts, and comparing them says so: two runs in a real
SQLite file whose manifests carry different host fingerprints, read back through the store,
the web History tab, the TUI History screen and `workbench runs list`."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tests.tui.helpers import settle
from workbench.settings import Settings
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.history import HistoryScreen
from workbench.web.common import WebConfig
from workbench.web.history import compare_runs, runs_frame

HOSTS = {"here": {"fingerprint": "c2310438ae94", "cpu": "AMD EPYC"},
         "there": {"fingerprint": "0123456789ab", "cpu": "Intel Xeon Platinum 8480+"}}


def two_hosts(db: Path) -> list[str]:
    """Three runs: two on `here`, one on `there` (newest first)."""
    ids = []
    with Store(db) as store:
        for host, seed in (("here", 1), ("here", 2), ("there", 3)):
            run_id = store_synthetic_run(store, 12, seed=seed)
            manifest = store.get_run(run_id)["manifest"]
            store.update_manifest(run_id, {**manifest, "hardware": HOSTS[host]})
            ids.append(run_id)
    return ids[::-1]


def test_store_lists_each_runs_host(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    there, here2, here1 = two_hosts(db)
    with Store(db) as store:
        runs = {r["id"]: (r["host"], r["host_cpu"]) for r in store.list_runs()}
    assert runs[there] == ("0123456789ab", "Intel Xeon Platinum 8480+")
    assert runs[here1] == runs[here2] == ("c2310438ae94", "AMD EPYC")


def test_web_history_marks_and_compares_hosts(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    there, here2, here1 = two_hosts(db)
    cfg = WebConfig(db=db, semantic=False)
    frame = runs_frame(cfg).set_index("id")
    assert frame.loc[there, "host"] == "012345 Intel Xeon…"  # cut to 18 characters
    assert frame.loc[here1, "host"] == frame.loc[here2, "host"] == "c23104 AMD EPYC"
    across = compare_runs(cfg, there, here1)
    assert "**Hosts:** these runs ran on different hosts" in across
    assert "0123456789ab: Intel Xeon Platinum 8480+; c2310438ae94: AMD EPYC" in across
    assert "Hosts:" not in compare_runs(cfg, here1, here2)


async def test_tui_history_marks_and_compares_hosts(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    there, _, here1 = two_hosts(db)
    settings = Settings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", db=db,
                        stacks_dir=tmp_path / "stacks", evalsets_dir=tmp_path / "evalsets")
    app = WorkbenchApp(db, settings=settings, semantic=False, refresh_s=3600.0,
                       start_mode="history")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#runs-table", DataTable)
        assert str(table.get_cell(there, "host")) == "012345"  # the fingerprint alone
        assert str(table.get_cell(here1, "host")) == "c23104"
        await pilot.press("m", "down", "down", "m", "c")  # the newest (there) and the oldest
        await settle(pilot)
        border = str(screen.query_one("#history-bottom").border_subtitle)
        assert border.startswith("hosts: these runs ran on different hosts")
        await pilot.press("up", "m", "c")  # the two latest marks: both runs of one host
        await settle(pilot)
        assert not screen.query_one("#history-bottom").border_subtitle


def test_cli_runs_list_has_a_host_column(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from workbench.cli import _register_commands, app

    db = tmp_path / "wb.db"
    two_hosts(db)
    _register_commands()
    out = CliRunner().invoke(app, ["runs", "list", "--db", str(db)], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "012345 Intel Xeon Platinum 8480+" in out.output
    assert out.output.count("c23104 AMD EPYC") == 2
