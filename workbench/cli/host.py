"""`workbench host`: what this machine is (as a run manifest records it) and its calibration."""

from __future__ import annotations

import json

import typer

from workbench.cli.app import app, fail
from workbench.host.calibration import CalibrationError, cache_path, calibration, measure_here
from workbench.host.facts import host_fingerprint
from workbench.runner.manifest import hardware
from workbench.settings import get_settings

host_app = typer.Typer(help="This machine: facts and calibration.", no_args_is_help=True)
app.add_typer(host_app, name="host")


@host_app.command("show")
def host_show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The host as a run's manifest records it: CPU and engine flags, cores, memory, GPUs,
    fingerprint and the cached calibration."""
    # why here: the report package imports SciPy (seconds to import)
    from workbench.report.host import host_line


    record = hardware()
    if as_json:
        typer.echo(json.dumps(record, indent=2))
        return
    typer.echo(host_line({"hardware": record}) or "")


@host_app.command("calibrate")
def host_calibrate(
    force: bool = typer.Option(False, "--force", help="Measure again even when cached."),
) -> None:
    """Measure how fast llama.cpp runs the packaged SmolLM2 here (prefill and decode tok/s;
    llama-bench, else llama-server), once per host; cached under the cache folder."""
    # why here: the report package imports SciPy (seconds to import)
    from workbench.report.host import calibration_text

    settings = get_settings()
    try:
        result = calibration(settings.cache_dir, lambda: measure_here(settings.state_dir / "logs"),
                             force=force)
    except CalibrationError as exc:
        raise fail(f"calibration failed: {exc}") from exc
    typer.echo(calibration_text(result))
    typer.echo(f"cached in {cache_path(settings.cache_dir, host_fingerprint())}")
