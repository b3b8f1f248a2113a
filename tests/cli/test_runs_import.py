"""`workbench export` -> `workbench runs import` -> `workbench report`, through the real CLI
on real SQLite files: the same scorecard; a malformed file is refused with file, line and
field, exit 2, and the database is unchanged byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_report_cli import workbench
from tests.runner.test_importer import interrupted_run
from workbench.store import Store


def test_export_import_report_through_the_cli(tmp_path: Path) -> None:
    here, there = tmp_path / "here.db", tmp_path / "there.db"
    with Store(here) as store:
        run_id = interrupted_run(store)
    out = tmp_path / "run.parquet"
    done = workbench("export", run_id, "--out", str(out), "--db", str(here))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run.run.json").is_file() and (tmp_path / "run.votes.parquet").is_file()
    imported = workbench("runs", "import", str(out), "--db", str(there))
    assert imported.returncode == 0, imported.stderr
    assert "2 votes, status completed" in imported.stdout
    (new_id,) = [r["id"] for r in json.loads(
        workbench("runs", "list", "--format", "json", "--db", str(there)).stdout)]
    cards = []
    for db, rid in ((here, run_id), (there, new_id)):
        report = workbench("report", rid, "--format", "json", "--no-semantic", "--db", str(db))
        assert report.returncode == 0, report.stderr
        card = json.loads(report.stdout)
        assert card.pop("run_id") == rid
        card.pop("elapsed_s")
        cards.append(card)
    assert cards[0] == cards[1]
    # Chosen on and gated as the original: the same choice, the same gate lines and exit.
    gates = [workbench("choose", rid, "--gate", "--max-drop", "f1=0.1", "--format", "json",
                       "--db", str(db)) for db, rid in ((here, run_id), (there, new_id))]
    assert gates[0].returncode == gates[1].returncode
    assert gates[0].stderr.replace(run_id, new_id) == gates[1].stderr
    choices = [json.loads(g.stdout) for g in gates]
    assert [c.pop("run_id") for c in choices] == [run_id, new_id]
    assert choices[0] == choices[1] and choices[0]["headline"]


def test_a_malformed_file_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db) as store:
        run_id = interrupted_run(store)
    out = tmp_path / "run.jsonl"
    assert workbench("export", run_id, "--out", str(out), "--db", str(db)).returncode == 0
    lines = out.read_text().splitlines()
    last = json.loads(lines[-1])
    del last["stack"]
    out.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    before = db.read_bytes()
    bad = workbench("runs", "import", str(out), "--db", str(db))
    assert bad.returncode == 2
    assert f"{out}:{len(lines)}: stack: Field required" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert db.read_bytes() == before
    runs = json.loads(workbench("runs", "list", "--format", "json", "--db", str(db)).stdout)
    assert [r["id"] for r in runs] == [run_id]
