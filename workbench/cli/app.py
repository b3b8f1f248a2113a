"""The `workbench` Typer app; each command module registers its commands on it.

Command modules import heavy libraries (torch, gradio, textual) inside the command
functions, so `workbench --help` and `workbench stacks list` stay fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="workbench",
    help="RAG A/B workbench: start two RAG stacks, ask both the same questions, compare.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a readable error (no traceback) and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.callback()
def _root() -> None:
    """RAG A/B workbench: start two RAG stacks, ask both the same questions, compare."""
