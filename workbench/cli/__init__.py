"""Command-line interface: `workbench <command>` (one module per command group).

Every command module is imported on each run (to register its commands), so a command
imports what it needs inside the command: `workbench --help` does not pay for the rest
(docs/architecture.md, "Floors")."""

from __future__ import annotations

import importlib
import pkgutil

from workbench.cli.app import app, fail
from workbench.records.manifest import ManifestError

__all__ = ["app", "main"]


def _register_commands() -> None:
    # Every module in this package registers its commands on `app` when imported.
    for info in pkgutil.iter_modules(__path__):
        if info.name != "app" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main() -> None:
    """Entry point of the `workbench` console script."""
    _register_commands()
    try:
        app()
    except ManifestError as exc:  # any command that reads a stored run's manifest
        raise SystemExit(fail(str(exc)).exit_code) from None
