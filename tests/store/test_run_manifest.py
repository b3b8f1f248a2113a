"""A run's typed manifest from a real SQLite file: a run stored by the workbench before N-stack
runs (the pre-004 schema's own SQL) is read through the upgrade without its stored JSON
changing; a malformed stored manifest is refused naming the run and the field; an exported
manifest of version 1 comes back through `runs import` upgraded, and a malformed one is
refused naming the `.run.json`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.runner.test_importer import export_all, interrupted_run
from tests.web.legacy import OLD_RUN_ID, store_old_two_stack_run
from workbench.records.manifest import ManifestError
from workbench.report.fairness import fairness_warnings
from workbench.runner.importer import RunFileError, read_run_file
from workbench.store import Store
from workbench.store.export import run_info_path
from workbench.store.imports import store_imported_run
from workbench.store.synthetic import STACKS


def test_a_run_stored_before_n_stack_runs_reads_upgraded_and_stays_stored_as_it_was(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store_old_two_stack_run(path)
    store = Store(path)
    stored = store.get_run(OLD_RUN_ID)["manifest"]
    m = store.run_manifest(OLD_RUN_ID)
    assert m.baseline == STACKS["A"]
    assert list(m.stacks or {}) == [STACKS["A"], STACKS["B"]]
    assert m.evalset is not None and m.evalset.name == "old-demo"
    assert [name for _, name, _ in m.recipes()] == [STACKS["A"], STACKS["B"]]
    # Reading changed nothing on disk: the stored JSON still keys the sides by letter.
    assert store.get_run(OLD_RUN_ID)["manifest"] == stored and set(stored["stacks"]) == {"A", "B"}
    # The report reads both the same way.
    assert fairness_warnings(m) == fairness_warnings(stored)


def test_a_malformed_stored_manifest_is_refused_naming_run_and_field(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = interrupted_run(store, n=4)
    store.update_manifest(run_id, {"hardware": {"cores": "two"}})
    with pytest.raises(ManifestError, match=rf"^run {run_id}: manifest field hardware.cores"):
        store.run_manifest(run_id)
    c = sqlite3.connect(tmp_path / "wb.db")
    c.execute("UPDATE runs SET manifest_json = '[1, 2]' WHERE id = ?", (run_id,))
    c.commit()
    c.close()
    with pytest.raises(ManifestError, match=rf"run {run_id}: manifest is not a JSON object"):
        store.run_manifest(run_id)


def test_an_exported_v1_manifest_is_imported_upgraded(tmp_path: Path) -> None:
    source = Store(tmp_path / "here.db")
    run_id = interrupted_run(source)
    # As a version-1 workbench stored it: no schema_version, a key this version does not know.
    source.update_manifest(run_id, {"prices": {STACKS["C"]: {"per_hour": 3.0}},
                                    "gpu_clock": {STACKS["C"]: 1410}})
    out = tmp_path / "run.jsonl"
    export_all(source, run_id, out)
    assert "schema_version" not in json.loads(run_info_path(out).read_text())["manifest"]
    target = Store(tmp_path / "there.db")
    new_id = store_imported_run(target, read_run_file(out))
    stored = target.get_run(new_id)["manifest"]
    assert stored["schema_version"] == 2
    assert stored["prices"] == {STACKS["C"]: {"per_hour": 3.0}}
    assert stored["gpu_clock"] == {STACKS["C"]: 1410}  # kept, not dropped
    assert stored["baseline"] == STACKS["A"]
    m = target.run_manifest(new_id)
    assert m.imported is not None and m.imported.rows == len(source.responses(run_id))
    assert m.imported.from_runs == [run_id]


def test_a_malformed_exported_manifest_is_refused_naming_the_run_file(tmp_path: Path) -> None:
    source = Store(tmp_path / "here.db")
    run_id = interrupted_run(source, n=4)
    out = tmp_path / "run.jsonl"
    export_all(source, run_id, out)
    info_path = run_info_path(out)
    info = json.loads(info_path.read_text())
    info["manifest"] = {"models": {STACKS["A"]: "sha"}}
    info_path.write_text(json.dumps(info))
    with pytest.raises(RunFileError) as exc:
        read_run_file(out)
    text = str(exc.value)
    assert str(info_path) in text and f"manifest field models.{STACKS['A']}" in text
