"""A corrupt results database is shown as an error naming the file, never as "no runs yet".

The files are real SQLite databases written by `Store`, then damaged the two ways disks and
copies damage them: a clobbered header, and clobbered pages behind an intact header.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from typer.testing import CliRunner

from workbench.cli import _register_commands, app
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run
from workbench.web.common import WebConfig
from workbench.web.history import runs_frame
from workbench.web.results import run_choices
from workbench.web.run_tab import resumable_runs

LISTINGS: list[Callable[[WebConfig], Any]] = [runs_frame, run_choices, resumable_runs]


def _damaged(tmp_path: Path, how: str) -> Path:
    db = tmp_path / f"{how}.db"
    with Store(db) as store:
        store_synthetic_run(store, 10)
    data = db.read_bytes()
    assert data.startswith(b"SQLite format 3\x00") and len(data) > 3 * 4096
    if how == "header":
        data = b"not a database! " * 8 + data[128:]
    else:  # every page after the first: the header still says SQLite
        data = data[:4096] + b"\x5a" * (len(data) - 4096)
    db.write_bytes(data)
    return db


@pytest.mark.parametrize("how", ["header", "pages"])
@pytest.mark.parametrize("listing", LISTINGS, ids=lambda f: f.__name__)
def test_corrupt_database_is_an_error_naming_the_file(
    tmp_path: Path, how: str, listing: Callable[[WebConfig], Any]
) -> None:
    db = _damaged(tmp_path, how)
    with pytest.raises(gr.Error) as err:
        listing(WebConfig(db=db, semantic=False))
    message = str(err.value.message)
    assert str(db) in message
    assert "not a database" in message or "malformed" in message


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda f: f.__name__)
def test_missing_database_is_no_runs_yet(
    tmp_path: Path, listing: Callable[[WebConfig], Any]
) -> None:
    db = tmp_path / "never-created.db"
    assert len(listing(WebConfig(db=db, semantic=False))) == 0
    assert not db.exists()  # looking does not create it


def test_web_command_refuses_a_corrupt_database(tmp_path: Path) -> None:
    db = _damaged(tmp_path, "header")
    _register_commands()
    result = CliRunner().invoke(app, ["web", "--db", str(db), "--port", "1"])
    assert result.exit_code != 0
    assert str(db) in result.output and "not a database" in result.output
