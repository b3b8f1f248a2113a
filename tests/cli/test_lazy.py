"""The root group loads commands lazily (`workbench.cli.app`): `workbench --help` lists every
command from the table without importing a command module, a command imports only its own
modules, and the table says what the modules register (name, order, short help, hidden)."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys

import pytest
import typer.main
from typer.core import TyperGroup

import workbench.cli
from workbench.cli.app import COMMANDS, app, load_all_commands

# Runs `workbench ARGS` in one process and prints, last, the workbench.cli modules it imported.
PROBE = """
import json, sys
sys.argv = ["workbench", *sys.argv[1:]]
from workbench.cli import _register_commands, main
if sys.argv[1:2] == ["--all"]:
    sys.argv.pop(1)
    _register_commands()
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted(m for m in sys.modules if m.startswith("workbench.cli."))))
sys.exit(code)
"""


def probe(*args: str) -> tuple[int, str, list[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         timeout=300, check=False, env={**os.environ, "COLUMNS": "100"})
    *shown, loaded = out.stdout.rstrip("\n").split("\n")
    return out.returncode, "\n".join(shown) + out.stderr, json.loads(loaded)


def test_help_lists_every_command_without_importing_one() -> None:
    code, text, loaded = probe("--help")
    assert code == 0, text
    assert loaded == ["workbench.cli.app"]
    # The same screen as with every command module imported and every command built.
    code_all, text_all, loaded_all = probe("--all", "--help")
    assert code_all == 0, text_all
    assert len(loaded_all) > 10
    assert text == text_all
    for listed in COMMANDS:
        assert (f"│ {listed.name} " in text) is not listed.hidden, listed.name


@pytest.mark.parametrize(("args", "modules"), [
    (["env"], ["env"]),
    (["runs", "--help"], ["judging", "report", "runs"]),
    (["stacks", "--help"], ["stacks", "tune"]),
])
def test_a_command_imports_only_its_own_modules(args: list[str], modules: list[str]) -> None:
    code, text, loaded = probe(*args)
    assert code == 0, text
    assert loaded == sorted(["workbench.cli.app", *(f"workbench.cli.{m}" for m in modules)])


def test_a_mistyped_command_is_matched_against_every_listed_one() -> None:
    code, text, loaded = probe("stack")
    assert code == 2
    assert "No such command 'stack'. Did you mean 'stacks'?" in text
    assert loaded == ["workbench.cli.app"]


def test_the_table_says_what_the_modules_register() -> None:
    load_all_commands()
    for info in pkgutil.iter_modules(workbench.cli.__path__):  # a module the table forgot too
        importlib.import_module(f"workbench.cli.{info.name}")
    built = typer.main.get_command(app)
    assert isinstance(built, TyperGroup)
    # Every registered command is listed (the table's order is the one `--help` shows).
    assert sorted(built.commands) == sorted(listed.name for listed in COMMANDS)
    for listed in COMMANDS:
        command = built.commands[listed.name]
        assert command.hidden is listed.hidden, listed.name
        assert listed.help == inspect.cleandoc(command.help or "").split("\n\n")[0], listed.name
        groups = [command] if isinstance(command, TyperGroup) else []
        callbacks = [c.callback for g in groups for c in g.commands.values()] or [
            command.callback]
        assert {f.__module__.rsplit(".", 1)[-1] for f in callbacks if f} \
            == set(listed.modules), listed.name
