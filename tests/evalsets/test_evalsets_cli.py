"""`workbench evalsets list` and `workbench evalsets validate`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import workbench.cli.evalsets  # noqa: F401 -- registers the commands on the app
from tests.evalsets.helpers import QUESTIONS, write_lines, write_set
from workbench.cli.app import app

runner = CliRunner()


def test_list_shows_shipped_sets_with_counts() -> None:
    result = runner.invoke(app, ["evalsets", "list"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert rows["demo-en"][1:4] == ["42", "68", "12"]
    assert rows["demo-ru"][-1] == "ru"


def test_validate_ok_prints_counts_and_digest() -> None:
    result = runner.invoke(app, ["evalsets", "validate", "demo-en"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "OK demo-en: 42 passages, 68 questions (12 unanswerable), digest "
    )


def test_validate_errors_exit_2_with_file_and_line(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "bad")
    lines = [json.dumps(q) for q in QUESTIONS]
    write_lines(folder / "questions.jsonl", [lines[0], lines[1], "{not json", lines[0]])
    result = runner.invoke(app, ["evalsets", "validate", str(folder)])
    assert result.exit_code == 2
    assert "questions.jsonl:3: malformed JSON" in result.output
    assert "questions.jsonl:4: id: duplicate id 'q1'" in result.output
