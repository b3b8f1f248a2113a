"""`workbench runs import FILE`: a run exported here or elsewhere becomes a new stored run,
to be re-scored (`workbench report`), chosen on and gated (`workbench choose --gate`)."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli.app import fail
from workbench.cli.report import runs_app
from workbench.runner.importer import RunFileError, read_run_file
from workbench.settings import get_settings
from workbench.store import Store, StoreError
from workbench.store.imports import store_imported_run


@runs_app.command("import")
def runs_import(
    file: Path = typer.Argument(..., help="What `workbench export` wrote: .jsonl, .csv or "
                                ".parquet (with <name>.run.json and <name>.votes.<ext> "
                                "beside it when present)."),
    baseline: str = typer.Option(None, "--baseline", help="The baseline stack (default: the "
                                 "exported run's, else the first stack in the file)."),
    fmt: str = typer.Option(None, "--format", "-f", help="jsonl | csv | parquet (from suffix)"),
    votes: bool = typer.Option(True, "--votes/--no-votes",
                               help="Also import <name>.votes.<ext> when it is there."),
    db: Path = typer.Option(None, "--db"),
) -> None:
    """Import an exported run as a NEW run (nothing stored is changed). Stacks keep the
    exported run's order (else the order in which they first appear); a stack may lack
    answers to some questions. A malformed file is refused with its file, line and field."""

    try:
        # Read and check everything before the database is opened.
        run = read_run_file(file, baseline=baseline, fmt=fmt, votes=votes)
    except RunFileError as exc:
        raise fail(str(exc)) from exc
    path = db or get_settings().db_path
    try:
        with Store(path) as store:
            run_id = store_imported_run(store, run)
    except (StoreError, ValueError) as exc:
        raise fail(str(exc)) from exc
    names = [str(s["name"]) for s in run.stacks]
    typer.echo(f"imported run {run_id} into {path}: {len(run.records)} responses, "
               f"{len(run.questions)} questions, stacks {', '.join(names)} "
               f"(baseline {run.baseline}), {len(run.votes)} votes, status {run.status}")
    typer.echo(f"next: workbench report {run_id} --db {path}  |  "
               f"workbench choose {run_id} --db {path}")
