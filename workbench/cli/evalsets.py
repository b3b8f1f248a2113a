"""`workbench evalsets list|validate|build|review`: the shipped eval sets, checking any
eval set, building one from a folder of documents, and reviewing a built one."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from workbench.cli.app import app, fail
from workbench.evalsets import EvalSetError, load_evalset, resolve_ref, shipped_evalsets
from workbench.settings import get_settings
from workbench.stacks.engines.base import EngineUnavailableError
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.process import LaunchError
from workbench.stacks.registry import UnknownModelError

evalsets_app = typer.Typer(
    help="Eval sets: list the shipped ones, validate any.", no_args_is_help=True
)
app.add_typer(evalsets_app, name="evalsets")


@evalsets_app.command("list")
def list_command() -> None:
    """List the shipped eval sets with their passage and question counts."""
    settings = get_settings()
    names = shipped_evalsets(settings)
    if not names:
        typer.echo(f"no eval sets in {settings.evalsets_dir}")
        return
    typer.echo(f"{'name':16} {'passages':>8} {'questions':>9} {'unanswerable':>12}  langs")
    for name in names:
        try:
            es = load_evalset(name, settings)
        except EvalSetError as exc:
            typer.secho(f"{name:16} invalid: {exc.problems[0]}", fg=typer.colors.RED)
            continue
        langs = ",".join(sorted({q.lang for q in es.questions}))
        typer.echo(
            f"{name:16} {len(es.passages):>8} {len(es.questions):>9} "
            f"{es.unanswerable_count:>12}  {langs}"
        )


@evalsets_app.command("validate")
def validate_command(
    ref: str = typer.Argument(help="Shipped set name, folder, SQuAD .json file or hf:hub/id."),
) -> None:
    """Check an eval set: print OK with counts and digest, or every problem (exit code 2)."""
    try:
        es = load_evalset(ref)
    except EvalSetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"OK {es.name}: {len(es.passages)} passages, {len(es.questions)} questions "
        f"({es.unanswerable_count} unanswerable), digest {es.digest}"
    )
    if es.without_gold_answers or es.without_gold_ids:
        typer.echo(f"questions-only: {es.without_gold_answers} answerable questions without "
                   f"gold answers (quality needs --judge), {es.without_gold_ids} without gold "
                   "passage ids (no retrieval metrics)")
    where = resolve_ref(ref)
    build = where / "build.json" if isinstance(where, Path) and where.is_dir() else None
    if build is not None and build.is_file():
        gen = json.loads(build.read_text("utf-8")).get("generator", {})
        typer.echo(f"generated: true, by {gen.get('model')} (sha256 "
                   f"{str(gen.get('model_digest'))[:12]}...), prompt sha256 "
                   f"{str(gen.get('prompt_digest'))[:12]}...")


@evalsets_app.command("build")
def build_command(
    docs: Path = typer.Argument(help="Folder of documents (.txt, .md, .html, .pdf)."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder to write the eval set to."),
    model: str = typer.Option("qwen2.5-1.5b-instruct", help="Registry model that writes "
                              "the questions (workbench models list)."),
    per_passage: int = typer.Option(1, min=1, max=5, help="Questions asked per passage."),
    unanswerable: float = typer.Option(0.15, min=0.0, max=0.5, help="Share of passages "
                                       "held out to make unanswerable questions."),
    passage_chars: int = typer.Option(700, min=200, max=4000, help="Passage size (chars)."),
    max_passages: int | None = typer.Option(None, min=1, help="Ask about the first N "
                                            "passages only (a quick, smaller set)."),
    url: str | None = typer.Option(None, help="Use the llama-server at this /v1 URL, "
                                   "serving --model, instead of starting one."),
    threads: int = typer.Option(2, min=1, help="llama-server threads."),
    overwrite: bool = typer.Option(False, help="Replace an earlier generated set in --out."),
) -> None:
    """Build an eval set from a folder of documents, with questions written by a local model.

    Passages are cut from every document; the model writes questions with answers that
    must appear in their passage (the gold passage); a share of passages is held out to
    make unanswerable questions from their near-miss neighbours. Replies are cached, so a
    rerun is fast. Review the result with `workbench evalsets review OUT`.
    """
    # why here: the builder's BM25 neighbours import SciPy (seconds to import)
    from workbench.evalsets.builder import (
        BuildOptions,
        DocumentError,
        GenerationError,
        build_evalset,
        question_writer,
    )

    settings = get_settings()
    opts = BuildOptions(docs=docs, out=out, model=model, per_passage=per_passage,
                        unanswerable_share=unanswerable, passage_chars=passage_chars,
                        max_passages=max_passages, overwrite=overwrite)
    console = Console(stderr=True)
    columns = (TextColumn("passages"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("left"), TimeRemainingColumn())
    try:
        console.print(f"questions by {model} on llama.cpp (started at the first passage "
                      "not in the cache)" if url is None else f"questions by {model} at {url}")
        with question_writer(model, log=settings.state_dir / "logs" / "evalset-build.log",
                             cache_dir=settings.cache_dir / "evalset-build", threads=threads,
                             url=url) as (writer, engine), \
                Progress(*columns, console=console) as bar:
            task = bar.add_task("passages", total=None)
            result = build_evalset(opts, writer, engine=engine, progress=lambda done, total:
                                   bar.update(task, completed=done, total=total))
    except (DocumentError, FileExistsError, GenerationError, EngineUnavailableError,
            LaunchError, UnknownModelError, EvalSetError, ModelFileError) as exc:
        raise fail(str(exc)) from exc
    for line in result.skipped:
        typer.secho(f"skipped: {line}", fg=typer.colors.YELLOW, err=True)
    rate = f", {result.per_minute:.1f} questions/min" if result.gen_s else " (all cached)"
    typer.echo(
        f"OK {out}: {result.passages} passages, {result.questions} questions "
        f"({result.unanswerable} unanswerable), {result.rejected} refused "
        f"({result.duplicates} duplicates), {result.asked} passages asked{rate}, "
        f"{result.elapsed_s:.0f} s"
    )


@evalsets_app.command("review")
def review_command(
    path: Path = typer.Argument(help="A generated eval set folder (has build.json)."),
) -> None:
    """Keep, edit or drop each generated question in the terminal (saved as you go)."""
    # why here: the review set imports SciPy (BM25), its screen Textual (seconds to import)
    from workbench.evalsets.builder.review import ReviewError, ReviewSet
    from workbench.tui.screens.review import ReviewApp

    try:
        review = ReviewSet.open(path)
    except ReviewError as exc:
        raise fail(str(exc)) from exc
    ReviewApp(review).run()
