"""`workbench stacks list`, `up`, `down`, `status`, `logs`, `sides`: the stack launcher's CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from workbench.cli.app import app, fail
from workbench.settings import get_settings
from workbench.stacks.conversion import ConversionError
from workbench.stacks.defaults import default_stacks
from workbench.stacks.engines import EngineUnavailableError, UnknownEngineError
from workbench.stacks.launcher import down, running_stack
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.placement import up_many
from workbench.stacks.process import LaunchError, tail
from workbench.stacks.recipe import RecipeError, get_stack, load_stacks
from workbench.stacks.state import load_started, run_dir
from workbench.stacks.status import status

stacks_app = typer.Typer(help="Stack recipes (stacks/*.yaml).", no_args_is_help=True)
app.add_typer(stacks_app, name="stacks")


def _errors() -> tuple[type[BaseException], ...]:
    """What reading recipes and starting stacks raise with a message for the user."""
    return (
        RecipeError,
        LaunchError,
        EngineUnavailableError,
        UnknownEngineError,
        ConversionError,
        ModelFileError,
    )


@stacks_app.command("list")
def list_command() -> None:
    """Show every stack recipe: engine, variant, launch mode, model, ports."""
    settings = get_settings()
    try:
        stacks = load_stacks(settings.stacks_dir)
    except _errors() as exc:
        raise fail(str(exc)) from exc
    table = Table(title=f"stacks in {settings.stacks_dir}")
    for col in ("name", "engine", "variant", "launch", "model", "rag", "engine port", "ctx"):
        # Fold rather than truncate: names are what the user types next.
        table.add_column(col, overflow="fold")
    for s in stacks.values():
        table.add_row(
            s.name,
            s.engine,
            s.variant,
            s.launch,
            s.model.name if s.model else "-",
            str(s.ports.rag),
            str(s.ports.engine or "-"),
            str(s.generation.context_window),
        )
    Console().print(table)


@app.command("up")
def up_command(
    a: str | None = typer.Option(None, "--a", help="Stack A, the baseline (default: see note)."),
    b: str | None = typer.Option(None, "--b", help="Stack B (default: vllm-cpu)."),
    a_port: int = typer.Option(8000, "--a-port", help="Stack A's RAG API port."),
    b_port: int = typer.Option(9000, "--b-port", help="Stack B's RAG API port."),
    a_engine_port: int | None = typer.Option(None, help="Stack A's engine port (rag + 1)."),
    b_engine_port: int | None = typer.Option(None, help="Stack B's engine port (rag + 1)."),
    no_rag: bool = typer.Option(False, "--no-rag", help="Start the engines only."),
) -> None:
    """Start two stacks: A, the baseline (RAG API on --a-port), and B (--b-port)."""
    settings = get_settings()
    if a is None or b is None:
        defaults = default_stacks()
        for note in defaults.notes:
            typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
        a, b = a or defaults.baseline, b or defaults.candidate
    try:
        stack_a = get_stack(a, settings.stacks_dir)
        stack_b = get_stack(b, settings.stacks_dir)
        typer.echo(f"starting A={a} (:{a_port}) and B={b} (:{b_port}) ...")
        # No memory check here (`make demo` and the matrix make one): as before.
        pair = up_many([stack_a, stack_b], settings, rag_ports=(a_port, b_port),
                       engine_ports=(a_engine_port, b_engine_port), with_rag=not no_rag,
                       check_memory=False)
    except _errors() as exc:
        raise fail(str(exc)) from exc
    for alias, running in zip("AB", pair, strict=True):
        how = "already running" if running.reused else "started"
        urls = f"RAG {running.rag_url}  engine {running.engine_url}"
        typer.echo(f"{alias}: {running.stack.name} {how}: {urls}")


@app.command("down")
def down_command(
    names: list[str] = typer.Argument(None, help="Stacks to stop (all when none)."),
) -> None:
    """Stop stacks (whole process groups) and free their ports."""
    stopped = down(names or None, get_settings())
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")


@app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Health, PIDs, ports, model, engine version and RSS of each started stack."""
    rows = status(get_settings())
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows], indent=2))
        return
    if not rows:
        typer.echo("no stacks started (workbench up)")
        return
    table = Table()
    cols = ("A/B", "stack", "state", "engine", "rag", "pids", "ports", "model", "version", "RSS")
    for col in cols:
        table.add_column(col, overflow="fold")
    colour = {"running": "green", "degraded": "yellow", "down": "red"}
    for r in rows:
        table.add_row(
            r.alias or "",
            r.name,
            f"[{colour[r.state]}]{r.state}[/]",
            f"{r.engine} {r.engine_health}",
            r.rag_health,
            " ".join(f"{k}={v}" for k, v in r.pids.items()),
            f"{r.rag_port}/{r.engine_port or '-'}",
            r.model or "-",
            r.engine_version or "-",
            " ".join(f"{k}={v:.0f}M" for k, v in r.rss_mib.items()),
        )
    Console().print(table)


def _log_files(name: str) -> list[Path]:
    folder = run_dir(name, get_settings())
    return sorted(folder.glob("*.log"))


@app.command("logs")
def logs_command(
    name: str = typer.Argument(..., help="Stack name."),
    lines: int = typer.Option(50, "-n", "--lines", help="Lines per log file."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
) -> None:
    """Print the last lines of a stack's logs (one file per process)."""
    files = _log_files(name)
    if not files:
        raise fail(f"no logs for stack {name!r} (was it started from this folder?)")
    for path in files:
        typer.echo(f"==> {path} <==")
        typer.echo(tail(path, lines))
    if not follow:
        return
    offsets = {p: p.stat().st_size for p in files}
    try:
        while True:
            for path in _log_files(name):
                size = path.stat().st_size
                start = offsets.get(path, 0)
                if size > start:
                    with path.open("rb") as f:
                        f.seek(start)
                        chunk = f.read().decode("utf-8", errors="replace")
                    for line in chunk.splitlines():
                        typer.echo(f"[{path.stem}] {line}")
                offsets[path] = size
            time.sleep(0.5)
    except KeyboardInterrupt:
        return


@app.command("started")
def started_command() -> None:
    """Print the two stacks `workbench up` started, baseline first, as `A_NAME,B_NAME` (for
    `make ab`); fails when either is not running."""
    settings = get_settings()
    pair = load_started(settings)[:2]
    if len(pair) < 2 or None in pair:
        raise fail("no two stacks recorded: run `workbench up` first", code=1)
    for name in pair:
        if name is None or running_stack(name, settings) is None:
            raise fail(f"stack {name!r} is not running: run `workbench up`", code=1)
    typer.echo(",".join(n for n in pair if n))


@app.command("sides", hidden=True)
def sides_command() -> None:
    """The old name of `workbench started` (kept so scripts keep working)."""
    typer.secho("note: `workbench sides` is now `workbench started`", err=True,
                fg=typer.colors.YELLOW)
    started_command()
