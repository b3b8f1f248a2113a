"""`workbench run`: the A/B run (new, `--resume`, or `--retry-failed`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from workbench.cli.app import app, fail
from workbench.runner.records import ResponseRecord
from workbench.runner.run import RunError, RunOptions, RunProgress, Schedule
from workbench.settings import get_settings
from workbench.store import Store, StoreError


def _open_store(db: Path | None) -> Store:
    settings = get_settings()
    try:
        return Store(db or settings.db_path)
    except StoreError as exc:
        raise fail(str(exc)) from exc


@app.command("run")
def run_command(
    evalset: str = typer.Option(None, "--evalset", "-e", help="Eval set: demo-en, a folder..."),
    stacks: str = typer.Option(None, "--stacks", "-s", help="Two stack names: A,B"),
    limit: int = typer.Option(None, "--limit", "-n", min=1, help="Ask only N questions."),
    schedule: str = typer.Option("interleaved", help="interleaved | sequential | parallel"),
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, max=256),
    timeout: float = typer.Option(120.0, "--timeout", help="Per-request timeout (s)."),
    warmup: int = typer.Option(1, "--warmup", min=0, help="Unstored warm-up requests per side."),
    db: Path = typer.Option(None, "--db", help="Results database (default .state/workbench.db)."),
    resume: str = typer.Option(None, "--resume", help="Finish a stored run (id or `latest`)."),
    retry_failed: str = typer.Option(
        None, "--retry-failed", help="Ask again the failed requests of a stored run."
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Print the scorecard after."),
) -> None:
    """Send every question to both stacks, store each result as it arrives, then report."""
    store = _open_store(db)
    run_id = asyncio_run_ab(
        store, evalset=evalset, stacks=stacks, limit=limit, resume=resume or retry_failed,
        retry_failed=retry_failed is not None,
        options=RunOptions(schedule=_schedule(schedule), concurrency=concurrency,
                           timeout_s=timeout, warmup=warmup),
    )
    if report:
        from workbench.cli.report import print_report

        print_report(store, run_id)


def _schedule(value: str) -> Schedule:
    if value not in ("interleaved", "sequential", "parallel"):
        raise fail(f"--schedule: unknown schedule {value!r}; known: interleaved, sequential, "
                   "parallel")
    return value  # type: ignore[return-value]


def asyncio_run_ab(store: Store, *, evalset: str | None, stacks: str | None,
                   limit: int | None, resume: str | None, retry_failed: bool,
                   options: RunOptions) -> str:
    """Create (or reopen) a run and execute it with a progress bar; returns the run id."""
    from workbench.evalsets import EvalSetError
    from workbench.runner.session import create_run, execute, reopen_run
    from workbench.stacks.recipe import RecipeError

    console = Console(stderr=True)
    try:
        if resume:
            run_id = store.resolve_run_id(resume)
            prepared = reopen_run(store, run_id, retry_failed=retry_failed)
            console.print(f"{'retrying failed requests of' if retry_failed else 'resuming'} "
                          f"run [bold]{run_id}[/]")
        else:
            if not evalset or not stacks:
                raise fail("--evalset and --stacks A,B are required (or --resume RUN_ID)")
            names = [s.strip() for s in stacks.split(",") if s.strip()]
            if len(names) != 2:
                raise fail(f"--stacks: need exactly two stack names as A,B, got {stacks!r}")
            prepared = create_run(store, evalset, (names[0], names[1]), limit=limit,
                                  options=options)
            console.print(
                f"run [bold]{prepared.run_id}[/]: {prepared.evalset.name}, "
                f"{len(prepared.questions)} questions, A={names[0]} B={names[1]}, "
                f"schedule {options.schedule}, stored in {store.path}"
            )
            if options.schedule == "parallel":
                console.print("[yellow]parallel schedule: both stacks run at once and disturb "
                              "each other's timings[/]")
    except (EvalSetError, RecipeError, RunError, KeyError, StoreError) as exc:
        raise fail(str(exc).strip("'\"")) from exc

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("errors {task.fields[errors]}"), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        tasks = {s: bar.add_task(f"{s} {prepared.stacks[s].name}", total=None, errors=0)
                 for s in ("A", "B")}

        def on_result(rec: ResponseRecord, progress: RunProgress) -> None:
            for side, task in tasks.items():
                bar.update(task, total=progress.per_side_total[side],
                           completed=progress.per_side_done[side],
                           errors=progress.errors[side])

        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            progress = asyncio.run(execute(store, prepared, on_result,
                                           on_status=lambda msg: bar.console.print(msg)))
        except KeyboardInterrupt:
            console.print(f"\ninterrupted: every answer so far is stored. Resume with "
                          f"`workbench run --resume {prepared.run_id}`")
            raise typer.Exit(130) from None
        except (RunError, StoreError) as exc:
            raise fail(f"{exc}\nstored answers are kept; resume with "
                       f"`workbench run --resume {prepared.run_id}`") from exc
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    # The runner's own cost (client, SSE parsing, store writes, progress bar; warm-up and
    # index calls included), so it can be told apart from the stacks' latency.
    per_request = (f", runner CPU {1000 * cpu / progress.done:.1f} ms/request"
                   if progress.done else "")
    console.print(f"run {prepared.run_id}: {progress.done} answers stored "
                  f"(errors A={progress.errors['A']} B={progress.errors['B']}) in {wall:.0f}s"
                  f"{per_request}")
    return prepared.run_id
