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


def test_votes_are_exported_beside_the_run(tmp_path: Path) -> None:
    from workbench.store.export import export_votes, votes_path

    store = Store(tmp_path / "wb.db")
    run_id = new_run(store)  # alpha, beta
    store.add_vote(question="Who?", stack_a="beta", stack_b="alpha", vote="A", blind=True,
                   detail={"left": "B", "token_f1": {"A": 1.0, "B": 0.5}})
    store.add_vote(question="Who?", stack_a="alpha", stack_b="gamma", vote="A", blind=True,
                   detail={})
    out = votes_path(tmp_path / "r.csv")
    assert out.name == "r.votes.csv"
    assert export_votes(store, run_id, out) == 1
    (row,) = list(csv.DictReader(out.open()))
    assert (row["stack_a"], row["stack_b"], row["vote"], row["winner"]) == \
        ("beta", "alpha", "A", "beta")
    assert export_votes(store, run_id, tmp_path / "v.parquet") == 1
    assert pq.read_table(tmp_path / "v.parquet").to_pylist()[0]["blind"] is True
