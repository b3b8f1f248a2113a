"""`workbench demo` (`make demo`): start the default pair, run the A/B, report and choose,
stop."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from workbench.cli.app import app, fail
from workbench.cli.report import print_report
from workbench.cli.run import run_stacks
from workbench.runner.run import RunOptions
from workbench.settings import get_settings
from workbench.stacks.capacity import CapacityError, check_stacks
from workbench.stacks.defaults import default_stacks
from workbench.stacks.launcher import down
from workbench.stacks.placement import up_many
from workbench.stacks.recipe import RecipeError, get_stack
from workbench.store import Store


@app.command("demo")
def demo_command(
    evalset: str = typer.Option("demo-en", "--evalset", "-e", help="demo-en or demo-ru, ..."),
    a: str = typer.Option(None, "--a", help="Stack A (default: ollama-cpu, else llamacpp-cpu)"),
    b: str = typer.Option(None, "--b", help="Stack B (default: vllm-cpu)"),
    limit: int = typer.Option(None, "--limit", "-n", min=1),
    keep: bool = typer.Option(False, "--keep", help="Leave the stacks running afterwards."),
    semantic: bool = typer.Option(True, "--semantic/--no-semantic"),
    a_port: int = typer.Option(8000, "--a-port", help="Stack A's RAG API port."),
    b_port: int = typer.Option(9000, "--b-port", help="Stack B's RAG API port."),
) -> None:
    """Start the default pair (A on :8000, B on :9000), run the eval set, report, print
    the recommendation, stop."""
    console = Console(stderr=True)
    settings = get_settings()
    defaults = default_stacks()
    names = (a or defaults.baseline, b or defaults.candidate)
    if a is None or b is None:
        for note in defaults.notes:
            console.print(f"[yellow]note:[/] {note}")
    t0 = time.perf_counter()
    started: list[str] = []
    try:
        try:
            sa, sb = (get_stack(n, settings.stacks_dir) for n in names)
        except RecipeError as exc:
            raise fail(str(exc)) from exc
        try:  # refuse here, naming the stacks and the numbers, not halfway through a run
            console.print(check_stacks([sa, sb], settings))
        except CapacityError as exc:
            raise fail(str(exc)) from exc
        console.print(f"starting A={names[0]} on :{a_port} and B={names[1]} on :{b_port} ...")
        try:
            ra, rb = up_many([sa, sb], settings, rag_ports=(a_port, b_port),
                             check_memory=False)  # checked above, with the numbers shown
        except Exception as exc:  # launch errors carry the command and the log tail
            raise fail(str(exc)) from exc
        started = [n for n, r in zip(names, (ra, rb), strict=True) if not r.reused]
        console.print(f"stacks healthy after {time.perf_counter() - t0:.0f}s")
        store = Store(settings.db_path)
        run_id = run_stacks(store, evalset=evalset, stacks=",".join(names), limit=limit,
                            resume=None, retry_failed=False, options=RunOptions())
        print_report(store, run_id, semantic=semantic)
        console.print(f"demo wall time {time.perf_counter() - t0:.0f}s")
    finally:
        if not keep and started:
            down(started, settings)
            console.print(f"stopped {', '.join(started)} (keep them with --keep / KEEP=1)")
