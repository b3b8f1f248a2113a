"""`workbench choose` on stored runs: constraints merged per key with their source, the
gate's exit codes (0 pass, 1 fail, 2 refused, 3 inconclusive), and no choice mid-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import workbench.cli.choose  # registers the commands
import workbench.cli.report  # noqa: F401
from workbench.cli.app import app
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run

MATRIX_CHOICE = {"slo": ["e2e.p95<=2s"], "min": ["f1>=0.1"], "max_error_rate": 0.05}


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, str]:
    """A completed 80-question run of two stacks whose matrix file set three constraints."""
    db = tmp_path / "wb.db"
    with Store(db) as store:
        rid = store_synthetic_run(store, 80)
        store.update_manifest(rid, {**store.get_run(rid)["manifest"], "choice": MATRIX_CHOICE})
    return db, rid


def choose(db: Path, rid: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["choose", rid, "--db", str(db), *args])


def test_a_command_line_slo_replaces_the_files_on_its_key_and_keeps_the_error_cap(
        run: tuple[Path, str]) -> None:
    db, rid = run
    out = choose(db, rid, "--slo", "e2e.p95<=5s", "--format", "json")
    assert out.exit_code == 0, out.output
    applied = json.loads(out.output)["constraints"]
    assert applied == [
        {"constraint": "f1>=0.1", "source": "matrix file"},
        {"constraint": "error_rate<=5%", "source": "matrix file"},
        {"constraint": "e2e.p95<=5s", "source": "command line"}]
    table = choose(db, rid, "--slo", "e2e.p95<=5s").output
    assert ("constraints applied: f1>=0.1 (matrix file), error_rate<=5% (matrix file), "
            "e2e.p95<=5s (command line)") in table


def test_gate_exit_codes(run: tuple[Path, str]) -> None:
    db, rid = run
    # 80 questions cannot show an F1 drop under 0.01 nor rule it out: inconclusive, exit 3.
    out = choose(db, rid, "--gate", "--max-drop", "f1=0.01")
    assert out.exit_code == 3, out.output
    assert "The gate is inconclusive (exit 3)." in out.output and "would settle it" in out.output
    # A p95 margin from 80 pairs is refused (a usage error), never judged on the median.
    out = choose(db, rid, "--gate", "--max-rise", "e2e.p95=10%")
    assert out.exit_code == 2 and "p95 needs at least 200" in out.output
    out = choose(db, rid, "--gate", "--max-drop", "f1=0.9")
    assert out.exit_code == 0 and "The gate passes (exit 0)." in out.output


def test_no_choice_while_the_run_is_in_progress(run: tuple[Path, str]) -> None:
    db, rid = run
    with Store(db) as store:
        store.set_status(rid, "running")
    out = choose(db, rid)
    assert out.exit_code == 0, out.output
    assert "provisional" in out.output and "no stack is chosen" in out.output
    assert "80/80 answered" in out.output
    for verdict in ("choose ", "faster", "better", "statistically tied", "slower"):
        assert verdict not in out.output
    gated = choose(db, rid, "--gate", "--max-drop", "f1=0.9")
    assert gated.exit_code == 3 and "not completed" in gated.output


def test_report_of_a_run_in_progress_has_no_verdict(run: tuple[Path, str]) -> None:
    db, rid = run
    with Store(db) as store:
        store.set_status(rid, "running")
    for fmt in ("table", "markdown"):
        out = CliRunner().invoke(app, ["report", rid, "--db", str(db), "--no-semantic",
                                       "--format", fmt])
        assert out.exit_code == 0, out.output
        assert f"run {rid} is running: provisional" in out.output
        for verdict in ("Choose", "choose ", "faster", "better", "✓", "Holm"):
            assert verdict not in out.output
