"""Exports: JSONL, CSV and Parquet hold the same rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.store.test_db import new_run, record
from workbench.store import Store
from workbench.store.export import export_run


def test_exports_agree(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    store.add_response(record(run_id, "q1", "A"))
    store.add_response(record(run_id, "q1", "B", answer="Bob"))
    assert export_run(store, run_id, tmp_path / "r.jsonl") == 2
    assert export_run(store, run_id, tmp_path / "r.csv") == 2
    assert export_run(store, run_id, tmp_path / "r.parquet") == 2
    jl = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    cs = list(csv.DictReader((tmp_path / "r.csv").open()))
    pa = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert [r["answer"] for r in jl] == [r["answer"] for r in cs] == [r["answer"] for r in pa] \
        == ["Ann", "Bob"]
    assert jl[0]["ttft_ms"] == pytest.approx(200.0)


def test_unknown_format_names_the_file(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)
    with pytest.raises(ValueError, match=r"r\.xlsx"):
        export_run(store, run_id, tmp_path / "r.xlsx")
