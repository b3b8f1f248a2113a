"""`workbench env`: print the effective settings."""

from __future__ import annotations

import json

import typer

from workbench.cli.app import app
from workbench.settings import get_settings


@app.command("env")
def env_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the effective settings (from WORKBENCH_* variables and .env)."""
    settings = get_settings()
    values = {k: str(v) for k, v in settings.model_dump().items()}
    values["db_path"] = str(settings.db_path)
    values["vllm_python_path"] = str(settings.vllm_python_path)
    if as_json:
        typer.echo(json.dumps(values, indent=2))
        return
    for key, value in values.items():
        typer.echo(f"{key:18} {value}")
