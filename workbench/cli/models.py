"""`workbench models list` (the model registry, cached or not) and `workbench models prepare`:
fetch the registry models some stacks name (the default pair's, a matrix's, or every
recipe's), convert their GGUFs where the engine needs it (vLLM on CPU), and export the
packaged MiniLM to ONNX for the stacks that embed with `onnx`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from workbench.cli.app import app, fail
from workbench.rag.embedder import PACKAGED_MINILM, EmbedderError, get_embedder
from workbench.settings import get_settings
from workbench.stacks.conversion import (
    ConversionError,
    ensure_converted,
    needs_conversion,
    recipe_gguf,
)
from workbench.stacks.defaults import default_stacks
from workbench.stacks.fetch import cached_gguf, ensure_gguf
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.recipe import (
    RecipeError,
    Stack,
    get_stack,
    load_recipe,
    load_stacks,
    read_yaml_mapping,
)
from workbench.stacks.registry import MODELS, model_for_spec

models_app = typer.Typer(help="Model files the stacks serve.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def list_command() -> None:
    """The registry's models: name, size, sha256, and whether this machine has the file."""
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
def prepare_command(
    targets: list[str] = typer.Option(
        None, "--for", "-f", metavar="STACK|RECIPE|MATRIX",
        help="Prepare only for these: a stack name, a recipe file or a matrix file "
             "(stacks/matrix/cpu.yaml); repeat it or separate with commas."),
    every: bool = typer.Option(False, "--all", help="Every recipe in the stacks folder."),
    a: str = typer.Option(None, "--a", help="Stack A, the baseline (default as `demo`)."),
    b: str = typer.Option(None, "--b", help="Stack B (default as `demo`)."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Only say what would be fetched and converted."),
) -> None:
    """Fetch (and verify) the registry models some stacks name, convert their GGUFs to a
    cached HF folder where the engine needs one, and export the embedding model to ONNX
    where a stack runs it there (all cached).

    Without --for or --all: the default pair that `workbench demo` and `make up` start
    (--a/--b change a stack), so a first demo fetches and converts nothing it will not
    serve. Other stacks' models are prepared when they start (`workbench up`), or ahead
    of a matrix with `--for stacks/matrix/cpu.yaml`.
    """
    settings = get_settings()
    try:
        stacks = stacks_to_prepare(targets or [], every=every, a=a, b=b)
        typer.echo(f"preparing models for {', '.join(s.name for s in stacks)}")
        if dry_run:
            _say_plan(stacks)
            return
        _fetch_registry_models(stacks)
        done: dict[str, str] = {}
        for stack in stacks:
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
        typer.echo("no stack here needs a converted model")
    _prepare_onnx_embedder(stacks)


def stacks_to_prepare(targets: Iterable[str], *, every: bool = False, a: str | None = None,
                      b: str | None = None) -> list[Stack]:
    """The stacks `models prepare` works for, in order, each once.

    `targets` (`--for`): stack names, recipe files and matrix files (a YAML with a
    `stacks:` list), comma-separated or not; `every`: each recipe in the stacks folder;
    neither: the default pair (`demo`'s, stacks A/B replaced by `a`/`b`). A name that is
    none of these is a `RecipeError` naming it.
    """
    # why here: runner.matrix reads constraints with the report, which imports SciPy
    from workbench.runner.matrix import load_matrix

    folder = get_settings().stacks_dir
    if every:
        return list(load_stacks(folder).values())
    names = [n.strip() for t in targets for n in t.split(",") if n.strip()]
    if not names:
        if a is None or b is None:
            defaults = default_stacks()
            a, b = a or defaults.baseline, b or defaults.candidate
        names = [a, b]
    chosen: dict[str, Stack] = {}
    for name in names:
        path = Path(name)
        if path.suffix.lower() not in (".yaml", ".yml"):
            found = [get_stack(name, folder)]
        elif "stacks" in read_yaml_mapping(path, "recipe or matrix file"):
            found = [get_stack(n, folder) for n in load_matrix(path).stacks]
        else:
            found = [load_recipe(path)]
        for stack in found:
            chosen.setdefault(stack.name, stack)
    return list(chosen.values())


def _say_plan(stacks: Iterable[Stack]) -> None:
    """One line per stack that serves a model: the file, and whether vLLM needs it
    converted (`--dry-run`)."""
    for stack in stacks:
        if stack.model is None:
            continue
        registered = model_for_spec(stack.model.gguf)
        what = registered.name if registered is not None else stack.model.gguf
        convert = ", converted for vLLM" if needs_conversion(stack) else ""
        typer.echo(f"{stack.name}: {what}{convert}")
    typer.echo("(dry run: nothing fetched or converted)")


def _fetch_registry_models(stacks: Iterable[Stack]) -> None:
    """Fetch every registry model a recipe names (compose recipes too: their engines mount
    the same file), once each, with a progress bar; cached ones are only reported."""
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
    if not any(s.retrieval.embedding_backend == "onnx"
               and s.retrieval.embedding_model == PACKAGED_MINILM for s in stacks):
        return
    typer.echo(f"{PACKAGED_MINILM}: ONNX export for the RAG services ...")
    try:
        get_embedder(PACKAGED_MINILM, "onnx").load()
    except EmbedderError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{PACKAGED_MINILM}: ONNX ready")
