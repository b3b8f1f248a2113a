"""`workbench matrix FILE` (`make matrix`): start a matrix file's stacks, run its eval set
through all of them, print the report and the ranked choice, stop the stacks."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from workbench.cli.app import app, fail
from workbench.cli.judging import judge_errors, judge_failure, open_judge
from workbench.cli.report import print_report
from workbench.cli.run import run_stacks
from workbench.records.manifest_parts import LoadBlock
from workbench.runner.run import RunOptions
from workbench.settings import get_settings
from workbench.stacks.launcher import down
from workbench.stacks.placement import up_many
from workbench.stacks.recipe import RecipeError, get_stack
from workbench.store import Store
from workbench.store.load_benches import LoadBenchStore


@app.command("matrix")
def matrix_command(
    path: Path = typer.Argument(..., help="A matrix file, e.g. stacks/matrix/cpu.yaml."),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1,
                                     help="Ask only N questions (default: the file's)."),
    keep: bool = typer.Option(False, "--keep", help="Leave the stacks running afterwards."),
    semantic: bool = typer.Option(False, "--semantic/--no-semantic",
                                  help="Score semantic similarity too (slower)."),
) -> None:
    """Start the candidates (the first two on :8000 and :9000), run, report, choose, stop."""
    # why here: runner.matrix reads constraints with the report, which imports SciPy
    from workbench.runner.matrix import load_matrix

    console = Console(stderr=True)
    settings = get_settings()
    try:
        m = load_matrix(path)
        stacks = [get_stack(n, settings.stacks_dir) for n in m.stacks]
    except RecipeError as exc:
        raise fail(str(exc)) from exc
    steps: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    started: list[str] = []
    try:
        console.print(f"matrix {m.name}: starting {', '.join(m.stacks)} ...")
        try:
            running = up_many(stacks, settings)
        except Exception as exc:  # launch errors carry the command and the log tail
            raise fail(str(exc)) from exc
        started = [r.stack.name for r in running if not r.reused]
        for r in running:
            console.print(f"  {r.stack.name}: {r.rag_url}{' (already up)' if r.reused else ''}")
        steps.append(("start stacks", time.perf_counter() - t0))
        t1 = time.perf_counter()
        store = Store(settings.db_path)
        run_id = run_stacks(
            store, evalset=m.evalset, stacks=",".join(m.stacks), limit=limit or m.limit,
            resume=None, retry_failed=False, baseline=m.baseline,
            extra_manifest=m.manifest_extra(),
            options=RunOptions(schedule=m.schedule, concurrency=m.concurrency),
        )
        steps.append(("run", time.perf_counter() - t1))
        if m.load is not None:
            t_load = time.perf_counter()
            load_pass(store, run_id, m.stacks, console)
            steps.append(("load", time.perf_counter() - t_load))
        t2 = time.perf_counter()
        j = m.judge
        with open_judge(j.kind if j else None, url=j.url if j else None,
                        model=j.model if j else None, sample=j.sample if j else 50) as judge:
            try:
                print_report(store, run_id, semantic=semantic, judge=judge,
                             pairwise=bool(j and j.pairwise))
            except judge_errors() as exc:
                raise judge_failure(exc) from exc
        steps.append(("score and report", time.perf_counter() - t2))
    finally:
        if not keep and started:
            t3 = time.perf_counter()
            down(started, settings)
            steps.append(("stop stacks", time.perf_counter() - t3))
            console.print(f"stopped {', '.join(started)} (keep them with --keep / KEEP=1)")
    console.print("matrix wall time " + f"{time.perf_counter() - t0:.0f}s ("
                  + ", ".join(f"{name} {s:.0f}s" for name, s in steps) + ")")


def load_pass(store: Store, run_id: str, stacks: list[str], console: Console) -> str | None:
    """The matrix's load block, after the quality pass: each stack alone, warmed up, at
    rising load. Whatever happens here (a stack that cannot be loaded, a crash, Ctrl-C),
    the quality results already stored stay as they are, and so do the levels measured;
    returns the load benchmark's id (None when it could not start)."""
    # why here: the load bench and the capacity choice import scoring and the report, which
    # import SciPy (seconds to import)
    from workbench.load.bench_stacks import BenchStackError, running_bench_stack
    from workbench.runner.matrix_load import load_pass_blocking


    settings = get_settings()
    manifest = store.run_manifest(run_id)
    rules = manifest.load or LoadBlock()
    space_ids = manifest.space_ids or {}
    loaded = []
    try:
        for name in stacks:
            one, _ = running_bench_stack(name, "rag", settings, max_tokens=None,
                                         ignore_eos=False,
                                         timeout_s=float(rules.timeout_s or 120.0),
                                         space_id=space_ids.get(name) or "default")
            loaded.append(one)
    except BenchStackError as exc:
        console.print(f"[yellow]load pass not run: {exc}; the quality results are kept[/]")
        return None
    console.print(f"load pass: {', '.join(stacks)}, one at a time, "
                  + (f"rates {rules.rates}/s" if rules.rates
                     else f"concurrency {rules.concurrency}")
                  + f", SLO {', '.join(rules.slo or [])}")
    bench_id, said = load_pass_blocking(LoadBenchStore(store), run_id, loaded,
                                        store.questions(run_id), rules, progress=console.print)
    console.print(said, style=None if said.startswith("load pass stored") else "yellow")
    return bench_id
