"""`workbench stacks tune`: probe each engine's settings on this host and cache the choice."""

from __future__ import annotations

import json
import signal
import sys

import typer

from workbench.cli.app import fail
from workbench.cli.stacks import _errors, stacks_app
from workbench.settings import get_settings
from workbench.stacks.recipe import load_stacks
from workbench.stacks.tuning import chosen_setting, load_result, recipe_pins, tunable
from workbench.stacks.tuning_probe import probe


@stacks_app.command("tune")
def tune_command(
    names: list[str] = typer.Argument(
        None, help="Stacks to tune (default: every native CPU vLLM and llama.cpp recipe)."),
    force: bool = typer.Option(False, "--force", help="Probe again even when cached."),
    show: bool = typer.Option(False, "--show", help="Print the cached choices; probe nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Serve a fixed prompt set under each candidate engine setting (vLLM dtype and compile
    mode; llama.cpp threads and batch) and keep the fastest whose answers match the reference
    setting's. Cached per host, engine version, model and cores; `up` uses the choice (and
    probes by itself when none is cached, unless WORKBENCH_TUNE=off)."""
    settings = get_settings()
    try:
        stacks = load_stacks(settings.stacks_dir)
    except _errors() as exc:
        raise fail(str(exc)) from exc
    unknown = [n for n in names or [] if n not in stacks]
    if unknown:
        raise fail(f"unknown stack(s) {', '.join(unknown)}; known: {', '.join(sorted(stacks))}")
    chosen = [stacks[n] for n in names] if names else [
        s for s in stacks.values() if tunable(s) is None and not recipe_pins(s)]
    results = {}
    # A SIGTERM (a timeout, `kill`) must still run the probe's `finally`, which stops the
    # engine it started in its own session.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for stack in chosen:
        why_not = tunable(stack)
        if why_not is not None:
            raise fail(f"stack {stack.name!r} is not tuned: {why_not}")
        cached = load_result(stack, settings)
        partial = cached is not None and bool(cached.get("skipped"))
        if show or (cached is not None and not force and not partial):
            results[stack.name] = cached
            if cached is None:
                typer.echo(f"{stack.name}: not probed on this host yet")
            else:
                typer.echo(f"{stack.name}: cached ({cached.get('probed_at')}): "
                           f"{cached.get('reason')}")
            continue
        try:
            results[stack.name] = probe(stack, settings, say=typer.echo)
        except (ValueError, *_errors()) as exc:  # type: ignore[misc]
            raise fail(str(exc)) from exc
        choice = chosen_setting(stack, settings)
        typer.echo(f"{stack.name}: runs {choice.setting.label} ({choice.source})")
    if as_json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
