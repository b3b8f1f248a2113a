"""`workbench report`, `workbench runs list`, `workbench export`: read the store, never a stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from workbench.cli.app import app, fail
from workbench.cli.judging import judge_errors, judge_failure, open_judge
from workbench.settings import get_settings
from workbench.store import Store, StoreError
from workbench.store.export import (
    export_run,
    export_run_info,
    export_votes,
    run_info_path,
    votes_path,
)

if TYPE_CHECKING:
    from workbench.report.choice import Choice
    from workbench.scoring.judge import Judge

runs_app = typer.Typer(help="Stored runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _store(db: Path | None, readonly: bool = True) -> Store:
    path = db or get_settings().db_path
    if readonly and not path.exists():
        raise fail(f"{path}: no results database yet (run `workbench run` or `make demo`)")
    try:
        return Store(path)
    except StoreError as exc:
        raise fail(str(exc)) from exc


def report_path(run_id: str) -> Path:
    """Where `workbench report` writes a run's Markdown report."""
    return get_settings().state_dir / "reports" / f"{run_id}.md"


def print_report(store: Store, run_id: str, *, fmt: str = "table", semantic: bool = True,
                 markdown_out: Path | None = None, judge: Judge | None = None,
                 pairwise: bool = False, pool_votes: bool = False) -> Choice | None:
    """Score the stored run, print it with its choice (the run's own constraints), and write
    its Markdown report; returns the choice."""
    # why here: the report package imports SciPy (seconds to import)
    from workbench.report.decision import decide_run
    from workbench.report.provisional import provisional_lines
    from workbench.report.render import render_choice, render_markdown, render_rich

    # Scoring a large run the first time takes minutes with semantic similarity (every
    # distinct answer goes through MiniLM, ~100 texts/s here): say so on stderr while it
    # works, so stdout stays the report (and valid JSON with --format json).
    with Console(stderr=True).status(
        f"scoring run {run_id}"
        + (" (semantic similarity embeds each new answer once; --no-semantic skips it)"
           if semantic else "")
    ):
        decision = decide_run(store, run_id, semantic=semantic, persist_scores=True,
                              judge=judge, pairwise=pairwise, votes=fmt != "json",
                              pooled_votes=pool_votes)
    card, choice, votes = decision.card, decision.choice, decision.votes
    if choice is None:  # no verdict mid-run: progress, own numbers only
        lines = provisional_lines(card, decision.status)
        if fmt == "json":
            typer.echo(json.dumps({"run_id": run_id, "status": decision.status,
                                   "provisional": True, "lines": lines}, indent=2))
        else:
            Console().print("\n".join(lines), highlight=False)
        return None
    if fmt == "json":
        typer.echo(card.model_dump_json(indent=2))
        return choice
    out = markdown_out or report_path(run_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(card, choice, votes), encoding="utf-8")
    # Piped to a file or a CI log, rich falls back to 80 columns and the leaderboard's nine
    # columns wrap every cell; a terminal keeps its own width.
    console = Console(width=None if sys.stdout.isatty() else 132)
    console.print(render_rich(card, choice, votes))
    console.print(f"\nrun {run_id} is stored in {store.path}; Markdown report: {out}")
    # The choice again at the very end, where a reader of a long report looks first.
    console.print(render_choice(choice))
    return choice


@app.command("report")
def report_command(
    run_id: str = typer.Argument("latest", help="Run id, unique prefix, or `latest`."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | markdown"),
    out: Path = typer.Option(None, "--out", "-o", help="Markdown file (default .state/reports)."),
    semantic: bool = typer.Option(True, "--semantic/--no-semantic",
                                  help="Semantic similarity (loads an embedding model)."),
    judge_kind: str = typer.Option(
        None, "--judge", help="`local`: judge with a packaged model on llama.cpp (started for "
        "this report, stopped after; --judge-model qwen2.5-1.5b-instruct by default, or "
        "qwen2.5-0.5b-instruct)."),
    judge_url: str = typer.Option(
        None, "--judge-url", help="Optional LLM judge: an OpenAI-compatible base URL (.../v1)."
    ),
    judge_model: str = typer.Option(None, "--judge-model", help="The judge's model name."),
    judge_sample: int = typer.Option(
        50, "--judge-sample", help="Questions judged (a seeded sample, the same for every "
        "stack); 0 judges every answer."),
    judge_pairwise: bool = typer.Option(
        False, "--judge-pairwise", help="Also judge each candidate against the baseline "
        "pairwise, in both orders (reports the judge's position bias; 2 calls per pair)."),
    judge_key_env: str = typer.Option(
        "WORKBENCH_JUDGE_API_KEY", "--judge-key-env",
        help="Environment variable holding the judge's API key (never printed or stored).",
    ),
    pool_votes: bool = typer.Option(
        False, "--pool-votes", help="Rate every arena vote between the run's stacks (open "
        "votes, other runs' questions); by default only blind votes on this run's questions."),
    db: Path = typer.Option(None, "--db"),
) -> None:
    """Print a run's choice and scorecard (each candidate against the baseline, 95% CIs,
    Holm-corrected primary metrics) and write it as Markdown.

    With --judge local (or --judge-url and --judge-model) an LLM judge also grades
    correctness, claim-level faithfulness to the retrieved context and relevance, on a seeded
    sample; its verdicts are cached in the store, its model digest and prompt go into the
    run manifest.
    """
    store = _store(db)
    try:
        rid = store.resolve_run_id(run_id)
    except KeyError as exc:
        raise fail(str(exc).strip("'\"")) from exc
    if fmt not in ("table", "json", "markdown"):
        raise fail(f"--format: unknown {fmt!r}; known: table, json, markdown")
    if fmt == "markdown":
        # why here: the report package imports SciPy (seconds to import)
        from workbench.report.decision import decide_run
        from workbench.report.provisional import provisional_lines
        from workbench.report.render import render_markdown

        decided = decide_run(store, rid, semantic=semantic, pooled_votes=pool_votes)
        if decided.choice is None:  # no verdict mid-run
            typer.echo("\n".join(provisional_lines(decided.card, decided.status)))
            return
        typer.echo(render_markdown(decided.card, decided.choice, decided.votes))
        return
    with open_judge(judge_kind, url=judge_url, model=judge_model, key_env=judge_key_env,
                    sample=judge_sample) as judge:
        try:
            print_report(store, rid, fmt=fmt, semantic=semantic, markdown_out=out,
                         judge=judge, pairwise=judge_pairwise, pool_votes=pool_votes)
        except judge_errors() as exc:
            raise judge_failure(exc) from exc


@runs_app.command("list")
def runs_list(
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
    limit: int = typer.Option(50, "--limit", "-n"),
    db: Path = typer.Option(None, "--db"),
) -> None:
    """Stored runs, newest first: id, time, eval set, stacks, status."""
    # why here: the report package imports SciPy (seconds to import)
    from workbench.report.host import host_label

    store = _store(db)
    runs = store.list_runs(limit=limit)
    if fmt == "json":
        typer.echo(json.dumps(runs, indent=2))
        return
    table = Table(title=f"runs in {store.path}")
    for col in ("id", "created (UTC)", "eval set", "stacks (baseline first)", "status",
                "answers", "errors", "host"):
        table.add_column(col)
    for r in runs:
        names = [r["baseline"], *[n for n in r["stacks"] if n != r["baseline"]]]
        table.add_row(r["id"], r["created_utc"][:19], r["evalset"], ", ".join(names),
                      r["status"], f"{r['responses']}/{len(names) * r['questions']}",
                      str(r["errors"]), host_label(r.get("host"), r.get("host_cpu"), width=40))
    Console().print(table)


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument("latest"), db: Path = typer.Option(None, "--db")
) -> None:
    """A run's manifest (JSON)."""
    store = _store(db)
    try:
        run = store.get_run(store.resolve_run_id(run_id))
    except KeyError as exc:
        raise fail(str(exc).strip("'\"")) from exc
    typer.echo(json.dumps(run, indent=2, ensure_ascii=False))


@app.command("export")
def export_command(
    run_id: str = typer.Argument("latest"),
    out: Path = typer.Option(..., "--out", "-o", help="File: .jsonl, .csv or .parquet"),
    fmt: str = typer.Option(None, "--format", "-f", help="jsonl | csv | parquet (from suffix)"),
    votes: bool = typer.Option(True, "--votes/--no-votes",
                               help="Also write the arena votes about the run's stacks "
                                    "beside it (<name>.votes.<ext>)."),
    db: Path = typer.Option(None, "--db"),
) -> None:
    """Export a run's responses (one row per question, stack and attempt) and the arena
    votes between its stacks (one row per vote)."""
    store = _store(db)
    try:
        rid = store.resolve_run_id(run_id)
        n = export_run(store, rid, out, fmt)
        # The manifest and the stacks' recipes beside it: `workbench runs import` reads it.
        export_run_info(store, rid, run_info_path(out))
        n_votes = export_votes(store, rid, votes_path(out), fmt) if votes else None
    except (KeyError, ValueError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    typer.echo(f"wrote {n} rows to {out}")
    if n_votes is not None:
        typer.echo(f"wrote {n_votes} votes to {votes_path(out)}")
