"""A stored run whose manifest cannot be read: the CLI says which run and which field, with
no traceback, and exits 2 (as for any other bad input)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_report_cli import workbench
from tests.runner.test_importer import interrupted_run
from workbench.store import Store


@pytest.mark.parametrize("command", ["report", "choose"])
def test_a_malformed_manifest_is_named_by_run_and_field(tmp_path: Path, command: str) -> None:
    db = tmp_path / "wb.db"
    store = Store(db)
    run_id = interrupted_run(store, n=4)
    store.update_manifest(run_id, {"hardware": {"cores": "two"}})
    out = workbench(command, run_id, "--db", str(db), "--no-semantic")
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().startswith(f"error: run {run_id}: manifest field hardware.cores")
    assert "Traceback" not in out.stderr
