"""`workbench models prepare`: convert GGUFs for the recipes that need it (vLLM on CPU)."""

from __future__ import annotations

import typer

from workbench.cli.app import app, fail
from workbench.settings import get_settings

models_app = typer.Typer(help="Model files the stacks serve.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("prepare")
def prepare_command() -> None:
    """Convert each recipe's GGUF to a cached HF folder where the engine needs one."""
    from workbench.stacks.conversion import (
        ConversionError,
        ensure_converted,
        needs_conversion,
        recipe_gguf,
    )
    from workbench.stacks.models import ModelFileError
    from workbench.stacks.recipe import RecipeError, load_stacks

    settings = get_settings()
    try:
        stacks = load_stacks(settings.stacks_dir)
        done: dict[str, str] = {}
        for stack in stacks.values():
            if not needs_conversion(stack):
                continue
            gguf = recipe_gguf(stack)
            if str(gguf) not in done:
                typer.echo(f"{stack.name}: preparing {gguf.name} ...")
                done[str(gguf)] = str(ensure_converted(gguf, settings))
            typer.echo(f"{stack.name}: {done[str(gguf)]}")
    except (RecipeError, ModelFileError, ConversionError) as exc:
        raise fail(str(exc)) from exc
    if not done:
        typer.echo("no recipe needs a converted model")
