"""`workbench tui` options (the app itself is driven in the other tests)."""

from __future__ import annotations

from typer.testing import CliRunner

import workbench.cli.tui  # noqa: F401  (registers the command on `app`)
from workbench.cli.app import app


def test_unknown_screen_is_a_readable_error() -> None:
    result = CliRunner().invoke(app, ["tui", "--screen", "nowhere"])
    assert result.exit_code == 2
    assert "unknown screen 'nowhere'; known: stacks, run, results, history" in result.output


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["tui", "--help"])
    assert result.exit_code == 0
    for option in ("--db", "--run", "--semantic", "--screen"):
        assert option in result.output
