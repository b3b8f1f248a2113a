"""`workbench models prepare`: convert GGUFs for the recipes that need it (vLLM on CPU), and
export the packaged MiniLM to ONNX for the recipes that embed with `onnx`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import typer

from workbench.cli.app import app, fail
from workbench.settings import get_settings

if TYPE_CHECKING:
    from workbench.stacks.recipe import Stack

models_app = typer.Typer(help="Model files the stacks serve.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("prepare")
def prepare_command() -> None:
    """Convert each recipe's GGUF to a cached HF folder where the engine needs one, and
    export the embedding model to ONNX where a recipe runs it there (both cached)."""
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
    _prepare_onnx_embedder(stacks.values())


def _prepare_onnx_embedder(stacks: Iterable[Stack]) -> None:
    """Export MiniLM to ONNX now, not in the first /index of a freshly started stack."""
    from workbench.rag.embedder import PACKAGED_MINILM, EmbedderError, get_embedder

    if not any(s.retrieval.embedding_backend == "onnx"
               and s.retrieval.embedding_model == PACKAGED_MINILM for s in stacks):
        return
    typer.echo(f"{PACKAGED_MINILM}: ONNX export for the RAG services ...")
    try:
        get_embedder(PACKAGED_MINILM, "onnx").load()
    except EmbedderError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{PACKAGED_MINILM}: ONNX ready")
