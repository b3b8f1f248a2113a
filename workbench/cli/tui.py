"""`workbench tui`: the Textual terminal UI over the results store (works over SSH)."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli.app import app, fail
from workbench.store.db import StoreError


@app.command("tui")
def tui_command(
    db: Path = typer.Option(None, "--db", help="Results database (default: settings' db)."),
    run: str = typer.Option(None, "--run", help="Run to open in Results (id, prefix, latest)."),
    semantic: bool = typer.Option(True, "--semantic/--no-semantic",
                                  help="Semantic similarity in scoring, as `workbench report`."),
    screen: str = typer.Option(None, "--screen",
                               help="Screen to open: stacks, run, results or history."),
) -> None:
    """Open the terminal UI: stacks, runs (start/cancel/resume), results and history."""
    # why here: tui.app imports Textual (heavy, and only this command needs it)
    from workbench.tui.app import WorkbenchApp

    if screen is not None and screen not in WorkbenchApp.SCREEN_KEYS:
        raise fail(f"unknown screen {screen!r}; known: {', '.join(WorkbenchApp.SCREEN_KEYS)}")
    try:
        tui = WorkbenchApp(db, run_id=run, semantic=semantic, start_mode=screen)
    except StoreError as exc:
        raise fail(str(exc)) from exc
    tui.run()
