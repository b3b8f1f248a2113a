"""`workbench evalsets list|validate`: the shipped eval sets, and checking any eval set."""

from __future__ import annotations

import typer

from workbench.cli.app import app, fail

evalsets_app = typer.Typer(
    help="Eval sets: list the shipped ones, validate any.", no_args_is_help=True
)
app.add_typer(evalsets_app, name="evalsets")


@evalsets_app.command("list")
def list_command() -> None:
    """List the shipped eval sets with their passage and question counts."""
    from workbench.evalsets import EvalSetError, load_evalset, shipped_evalsets
    from workbench.settings import get_settings

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
    from workbench.evalsets import EvalSetError, load_evalset

    try:
        es = load_evalset(ref)
    except EvalSetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"OK {es.name}: {len(es.passages)} passages, {len(es.questions)} questions "
        f"({es.unanswerable_count} unanswerable), digest {es.digest}"
    )
