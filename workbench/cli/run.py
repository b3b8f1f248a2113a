"""`workbench run`: a run of 2-8 stacks (new, from a matrix file, `--resume`, or
`--retry-failed`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from workbench.cli.app import app, fail
from workbench.cli.report import print_report
from workbench.evalsets import EvalSetError
from workbench.host.calibration import cached, crowded, host_calibration
from workbench.records.responses import ResponseRecord
from workbench.runner.run import RunError, RunOptions, RunProgress, Schedule
from workbench.runner.session import create_run, execute, reopen_run
from workbench.settings import get_settings
from workbench.stacks.recipe import RecipeError
from workbench.store import Store, StoreError


def _open_store(db: Path | None) -> Store:
    settings = get_settings()
    try:
        return Store(db or settings.db_path)
    except StoreError as exc:
        raise fail(str(exc)) from exc


@app.command("run")
def run_command(
    evalset: str | None = typer.Option(None, "--evalset", "-e",
                                       help="Eval set: demo-en, a folder..."),
    stacks: str | None = typer.Option(None, "--stacks", "-s",
                               help="2-8 stack names in run order: s1,s2,... (s1 is the "
                               "baseline unless --baseline)"),
    baseline: str | None = typer.Option(None, "--baseline", help="The stack every other is "
                                 "compared with (default: the first)."),
    matrix: Path | None = typer.Option(None, "--matrix", "-m", help="A matrix file (stacks/matrix/"
                                "*.yaml): stacks, eval set, SLOs, prices."),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="Ask only N questions."),
    schedule: str = typer.Option("interleaved", help="interleaved | sequential | parallel"),
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, max=256),
    timeout: float = typer.Option(120.0, "--timeout", help="Per-request timeout (s)."),
    warmup: int = typer.Option(1, "--warmup", min=0, help="Unstored warm-up requests per stack."),
    db: Path = typer.Option(None, "--db", help="Results database (default .state/workbench.db)."),
    resume: str = typer.Option(None, "--resume", help="Finish a stored run (id or `latest`)."),
    retry_failed: str = typer.Option(
        None, "--retry-failed", help="Ask again the failed requests of a stored run."
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Print the scorecard after."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow stacks (or their engines) on another machine: "
        "without it only 127.0.0.1 is a target, unless a recipe says allow_remote: true."),
) -> None:
    """Send every question to every stack, store each result as it arrives, then report
    and choose."""
    store = _open_store(db)
    extra: dict[str, object] = {}
    if matrix is not None:
        # why here: runner.matrix reads constraints with the report, which imports SciPy
        from workbench.runner.matrix import load_matrix


        try:
            m = load_matrix(matrix)
        except RecipeError as exc:
            raise fail(str(exc)) from exc
        evalset, stacks = evalset or m.evalset, stacks or ",".join(m.stacks)
        baseline, limit = baseline or m.baseline, limit or m.limit
        schedule, concurrency = m.schedule, m.concurrency
        extra = m.manifest_extra()
    run_id = run_stacks(
        store, evalset=evalset, stacks=stacks, limit=limit, resume=resume or retry_failed,
        retry_failed=retry_failed is not None, baseline=baseline, extra_manifest=extra,
        allow_remote=allow_remote,
        options=RunOptions(schedule=_schedule(schedule), concurrency=concurrency,
                           timeout_s=timeout, warmup=warmup),
    )
    if report:
        print_report(store, run_id)


def _schedule(value: str) -> Schedule:
    if value not in ("interleaved", "sequential", "parallel"):
        raise fail(f"--schedule: unknown schedule {value!r}; known: interleaved, sequential, "
                   "parallel")
    return value  # type: ignore[return-value]


def _calibrate_host(console: Console) -> None:
    """Measure the host once (cached by its fingerprint) so the run's manifest says how
    fast the machine was; a host where it cannot run is simply not calibrated."""
    settings = get_settings()
    if cached(settings.cache_dir) is None:
        if crowded():
            console.print("this host is too busy to calibrate now (load at twice its cores); "
                          "the run records no calibration (`workbench host calibrate`)")
            return
        console.print("calibrating this host once (llama-bench on SmolLM2; cached per host)")
    host_calibration(settings.cache_dir, settings.state_dir / "logs")


def run_stacks(store: Store, *, evalset: str | None, stacks: str | None,
               limit: int | None, resume: str | None, retry_failed: bool,
               options: RunOptions, baseline: str | None = None,
               extra_manifest: dict[str, object] | None = None,
               allow_remote: bool = False) -> str:
    """Create (or reopen) a run and execute it with a progress bar; returns the run id."""
    console = Console(stderr=True)
    try:
        if resume:
            run_id = store.resolve_run_id(resume)
            prepared = reopen_run(store, run_id, retry_failed=retry_failed,
                                  allow_remote=allow_remote)
            console.print(f"{'retrying failed requests of' if retry_failed else 'resuming'} "
                          f"run [bold]{run_id}[/]")
        else:
            if not evalset or not stacks:
                raise fail("--evalset and --stacks s1,s2,... are required (or --matrix FILE, "
                           "or --resume RUN_ID)")
            names = [s.strip() for s in stacks.split(",") if s.strip()]
            _calibrate_host(console)
            prepared = create_run(store, evalset, names, limit=limit, options=options,
                                  baseline=baseline, extra_manifest=extra_manifest,
                                  allow_remote=allow_remote)
            console.print(
                f"run [bold]{prepared.run_id}[/]: {prepared.evalset.name}, "
                f"{len(prepared.questions)} questions, stacks {', '.join(names)} (baseline "
                f"{prepared.baseline}), schedule {options.schedule}, stored in {store.path}"
            )
            if options.schedule == "parallel":
                console.print("[yellow]parallel schedule: the stacks run at once and disturb "
                              "each other's timings[/]")
    except (EvalSetError, RecipeError, RunError, KeyError, StoreError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    for r in prepared.routes:  # where every request goes, before the first one is sent
        console.print(f"traffic: {r.describe()}", style="yellow" if r.remote else None,
                      highlight=False)

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("errors {task.fields[errors]}"), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        tasks = {name: bar.add_task(name, total=None, errors=0) for name in prepared.stacks}

        def on_result(rec: ResponseRecord, progress: RunProgress) -> None:
            task = tasks[rec.stack]
            bar.update(task, total=progress.per_stack_total[rec.stack],
                       completed=progress.per_stack_done[rec.stack],
                       errors=progress.errors[rec.stack])

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
    errors = ", ".join(f"{k}={v}" for k, v in progress.errors.items())
    console.print(f"run {prepared.run_id}: {progress.done} answers stored "
                  f"(errors {errors}) in {wall:.0f}s{per_request}")
    return prepared.run_id
