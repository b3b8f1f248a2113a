"""Command-line interface: `workbench <command>` (one module per command group).

The root group loads commands lazily: `workbench.cli.app.COMMANDS` names each command, the
modules that register it and its short help, so `workbench --help` imports no command module
and `workbench <command>` imports only that command's. A command module therefore imports
what it needs at its top; only heavy optional dependencies (SciPy through the report,
Gradio, Textual, ...) wait inside the command, each with a `# why here:` line
(docs/architecture.md, "Floors")."""

from __future__ import annotations

import sys

from workbench.cli.app import app, fail, load_all_commands

__all__ = ["app", "main"]


def _register_commands() -> None:
    """Import every command module now (the root group would import each on first use)."""
    load_all_commands()


def _unreadable_manifest(exc: BaseException) -> bool:
    """Whether `exc` is `records.manifest.ManifestError` (a stored manifest that cannot be
    read). Only a command that imported the manifest model can raise one, so the class is
    looked up where that import put it: importing the model here would cost every run,
    `workbench --help` included, the pydantic build of the manifest (most of its start-up)."""
    manifest = sys.modules.get("workbench.records.manifest")
    return manifest is not None and isinstance(exc, manifest.ManifestError)


def main() -> None:
    """Entry point of the `workbench` console script."""
    try:
        app()
    except ValueError as exc:  # any command that reads a stored run's manifest
        if not _unreadable_manifest(exc):
            raise
        raise SystemExit(fail(str(exc)).exit_code) from None
