"""The `workbench` Typer app, whose commands load lazily (click's "lazily loading
subcommands" pattern, on Typer's click group).

`COMMANDS` lists every command: its name, the modules that register it on `app`, and the
short help `workbench --help` shows. The root group lists the commands from that table and
imports a command's modules only when that command runs or prints its own help, so each
command module imports what it needs at its top without slowing the others
(docs/architecture.md, "Floors"). `tests/cli/test_lazy.py` holds the table to the commands
the modules register.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass

import typer
import typer.main
from typer import _click as click  # typer vendors click: its types live only here
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Listed:
    """One command as the root group knows it before its module is imported."""

    name: str
    modules: tuple[str, ...]  # under workbench.cli; a group's later ones add subcommands
    help: str  # the first paragraph of the command's docstring (a group's `help=`)
    hidden: bool = False

    def summary(self) -> TyperCommand:
        """A stand-in that carries the name and help for the root's help listing only."""
        return TyperCommand(self.name, help=self.help, hidden=self.hidden)


#: Every command in the order `workbench --help` lists it (commands, then groups).
COMMANDS: tuple[Listed, ...] = (
    Listed("bench", ("bench",), "Load-test stacks or an endpoint: concurrency sweep, "
           "rate/Poisson arrivals, fixed count."),
    Listed("choose", ("choose",), "Rank the run's stacks under the constraints and say which "
           "one to choose, and why."),
    Listed("demo", ("demo",), "Start the default pair (A on :8000, B on :9000), run the eval "
           "set, report, print\nthe recommendation, stop."),
    Listed("env", ("env",), "Print the effective settings (from WORKBENCH_* variables and .env)."),
    Listed("index", ("index",), "Index a corpus for a stack (reused when corpus and settings "
           "are unchanged)."),
    Listed("matrix", ("matrix",), "Start the candidates (the first two on :8000 and :9000), "
           "run, report, choose, stop."),
    Listed("report", ("report",), "Print a run's choice and scorecard (each candidate against "
           "the baseline, 95% CIs,\nHolm-corrected primary metrics) and write it as Markdown."),
    Listed("export", ("report",), "Export a run's responses (one row per question, stack and "
           "attempt) and the arena\nvotes between its stacks (one row per vote)."),
    Listed("run", ("run",), "Send every question to every stack, store each result as it "
           "arrives, then report\nand choose."),
    Listed("up", ("stacks",), "Start two stacks: A, the baseline (RAG API on --a-port), and B "
           "(--b-port)."),
    Listed("down", ("stacks",), "Stop stacks (whole process groups) and free their ports."),
    Listed("status", ("stacks",), "Health, PIDs, ports, model, engine version and RSS of each "
           "started stack."),
    Listed("logs", ("stacks",), "Print the last lines of a stack's logs (one file per process)."),
    Listed("started", ("stacks",), "Print the two stacks `workbench up` started, baseline "
           "first, as `A_NAME,B_NAME` (for\n`make ab`); fails when either is not running."),
    Listed("sides", ("stacks",), "The old name of `workbench started` (kept so scripts keep "
           "working).", hidden=True),
    Listed("tui", ("tui",), "Open the terminal UI: stacks, runs (start/cancel/resume), results "
           "and history."),
    Listed("web", ("web",), "Serve the web UI on http://HOST:PORT (no public share link is "
           "ever created)."),
    Listed("evalsets", ("evalsets",), "Eval sets: list the shipped ones, validate any."),
    Listed("host", ("host",), "This machine: facts and calibration."),
    Listed("models", ("models",), "Model files the stacks serve."),
    Listed("runs", ("report", "runs"), "Stored runs."),
    Listed("stacks", ("stacks", "tune"), "Stack recipes (stacks/*.yaml)."),
)
_BY_NAME = {listed.name: listed for listed in COMMANDS}


def load_command(listed: Listed) -> click.Command:
    """Import the modules that register a listed command on `app` and build it."""
    for module in listed.modules:
        importlib.import_module(f"{__package__}.{module}")
    built = typer.main.get_command(app)  # the commands registered so far, as click builds them
    command = built.commands.get(listed.name) if isinstance(built, TyperGroup) else None
    if command is None:
        raise RuntimeError(f"workbench.cli.{listed.modules[0]} registers no command "
                           f"{listed.name!r} (workbench.cli.app.COMMANDS names it there)")
    return command


class LazyGroup(TyperGroup):
    """The root group: lists the commands from `COMMANDS` and imports a command's modules
    the first time the command is looked up to run (not to be listed)."""

    _listing = False  # True while the root's own help is rendered

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*_BY_NAME, *(name for name in self.commands if name not in _BY_NAME)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        listed = _BY_NAME.get(cmd_name)
        if listed is not None and cmd_name not in self.commands:
            if self._listing:
                return listed.summary()
            self.commands[cmd_name] = load_command(listed)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The help lists every command with its short help: from the table, importing none.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Typer suggests among the commands built so far; suggest among all listed ones.
        try:
            return self._click_resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            close = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close and self.suggest_commands:
                suggestions = ", ".join(repr(name) for name in close)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    name="workbench",
    cls=LazyGroup,
    help="RAG A/B workbench: start two RAG stacks, ask both the same questions, compare.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def load_all_commands() -> None:
    """Import every command module now (each registers its commands on `app`)."""
    for listed in COMMANDS:
        for module in listed.modules:
            importlib.import_module(f"{__package__}.{module}")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a readable error (no traceback) and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.callback()
def _root() -> None:
    """RAG A/B workbench: start two RAG stacks, ask both the same questions, compare."""
