"""`workbench runs import`: an exported run comes back as a new run that scores the same, on
a real SQLite file; a malformed file is refused with file, line and field, and nothing
stored changes."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from workbench.report.choice import recommend
from workbench.report.stored import scorecard_for_run
from workbench.runner.importer import RunFileError, read_run_file
from workbench.store import Store, StoreError
from workbench.store.export import (
    export_run,
    export_run_info,
    export_votes,
    run_info_path,
    votes_path,
)
from workbench.store.imports import store_imported_run
from workbench.store.synthetic import STACKS, synthetic_run

#: Columns the export wrote before `runs import` existed: what another tool may give.
TODAY = ("run_id", "question_id", "stack", "attempt", "status", "error", "question",
         "gold_answers", "answerable", "lang", "answer", "ttft_ms", "tpot_ms", "e2e_ms",
         "completion_tokens", "prompt_tokens", "retrieved_doc_ids", "gold_doc_ids",
         "server_timings", "started_at_utc")


def interrupted_run(store: Store, n: int = 60) -> str:
    """Three stacks, the baseline second in run order, responses stored out of question
    order, the third stack interrupted (no answer to the last 12 questions), and votes."""
    questions, records = synthetic_run(n, seed=11, stacks=3)
    order = [STACKS["B"], STACKS["A"], STACKS["C"]]
    run_id = store.create_run(
        evalset="synthetic", evalset_digest="seed-11", schedule="interleaved",
        stacks=[{"name": s, "engine": "llamacpp", "cost": {"per_hour": 1.0 + i}}
                for i, s in enumerate(order)],
        questions=questions, manifest={"prices": {STACKS["C"]: {"per_hour": 3.0}}},
        limit=None, baseline=STACKS["A"])
    cut = {q.id for q in questions[-12:]}
    kept = [r for r in records if not (r.stack == STACKS["C"] and r.question_id in cut)]
    random.Random(3).shuffle(kept)  # arrival order is not question order
    store.add_responses([r.model_copy(update={"run_id": run_id}) for r in kept])
    store.add_vote(question="q1?", stack_a=STACKS["A"], stack_b=STACKS["C"], vote="B",
                   blind=True, detail={"left": "A"}, run_id=run_id)
    store.add_vote(question="free?", stack_a=STACKS["B"], stack_b=STACKS["A"], vote="tie",
                   blind=False, detail={})
    store.set_status(run_id, "completed")
    return run_id


def card_json(store: Store, run_id: str) -> dict[str, Any]:
    card = json.loads(scorecard_for_run(store, run_id, semantic=False).model_dump_json())
    card.pop("run_id")
    card.pop("elapsed_s")
    return card


def export_all(store: Store, run_id: str, out: Path) -> None:
    export_run(store, run_id, out)
    export_run_info(store, run_id, run_info_path(out))
    export_votes(store, run_id, votes_path(out))


@pytest.mark.parametrize("ext", ["jsonl", "csv", "parquet"])
def test_export_import_report_gives_the_same_scorecard(tmp_path: Path, ext: str) -> None:
    source = Store(tmp_path / "here.db")
    run_id = interrupted_run(source)
    out = tmp_path / f"run.{ext}"
    export_all(source, run_id, out)
    target = Store(tmp_path / "there.db")
    new_id = store_imported_run(target, read_run_file(out))
    assert new_id != run_id
    before, after = card_json(source, run_id), card_json(target, new_id)
    assert after == before  # every number, interval, row and warning
    assert after["stacks"] == [STACKS["B"], STACKS["A"], STACKS["C"]]
    assert after["baseline"] == STACKS["A"]
    assert any("not by llamacpp-cpu-qwen05" in w for w in after["warnings"])
    # The same choice from the same card, and the votes came along (one tied to the run).
    assert recommend(scorecard_for_run(target, new_id, semantic=False)).headline == \
        recommend(scorecard_for_run(source, run_id, semantic=False)).headline
    votes = target.votes()
    assert sorted((v["vote"], v["run_id"]) for v in votes) == [("B", new_id), ("tie", None)]
    assert target.get_run(new_id)["status"] == "completed"
    assert target.get_run(new_id)["manifest"]["prices"] == {STACKS["C"]: {"per_hour": 3.0}}


def test_todays_columns_alone_score_the_same_quality_and_latency(tmp_path: Path) -> None:
    source = Store(tmp_path / "here.db")
    run_id = interrupted_run(source)
    out = tmp_path / "full.jsonl"
    export_run(source, run_id, out)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    other = tmp_path / "other-tool.jsonl"
    other.write_text("".join(json.dumps({k: r[k] for k in TODAY}) + "\n" for r in rows))
    run = read_run_file(other)
    # No run file: stacks in the order they first appear, the first one the baseline.
    first_seen = list(dict.fromkeys(r["stack"] for r in rows))
    assert [s["name"] for s in run.stacks] == first_seen and run.baseline == first_seen[0]
    run = read_run_file(other, baseline=STACKS["A"])
    target = Store(tmp_path / "there.db")
    new_id = store_imported_run(target, run)
    a = scorecard_for_run(source, run_id, semantic=False)
    b = scorecard_for_run(target, new_id, semantic=False)
    assert b.baseline == a.baseline and b.n_pairs == a.n_pairs
    for name in a.stacks:
        sa, sb = a.summaries[name], b.summaries[name]
        # Questions come in the order they first appear (the rows are not in question
        # order here), so sums may differ in the last bit and bootstrap draws pair others.
        assert sb.quality == pytest.approx(sa.quality, rel=1e-12)
        assert sb.retrieval == pytest.approx(sa.retrieval, rel=1e-12)
        assert (sb.ok, sb.errors) == (sa.ok, sa.errors)
        for key in ("ttft", "e2e", "tpot"):
            assert sb.latency[key].p50 == pytest.approx(sa.latency[key].p50, rel=1e-9)
            assert sb.latency[key].p95 == pytest.approx(sa.latency[key].p95, rel=1e-9)
    quality = {(c.candidate, c.key): c for c in a.comparisons if c.section != "latency"}
    for c in b.comparisons:
        if (c.candidate, c.key) in quality:
            ref = quality[(c.candidate, c.key)]
            assert (c.diff, c.n_pairs, c.p_value is None) == \
                (pytest.approx(ref.diff, abs=1e-12), ref.n_pairs, ref.p_value is None)
    ratio = {(c.candidate): c.rel_pct for c in a.comparisons if c.key == "e2e.ratio"}
    assert {c.candidate: pytest.approx(c.rel_pct, abs=1e-6) for c in b.comparisons
            if c.key == "e2e.ratio"} == ratio


def rows_of(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    rows = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    conn.close()
    return rows


def test_a_bad_line_at_the_end_is_named_and_nothing_changes(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    with Store(db) as store:
        run_id = interrupted_run(store)
        out = tmp_path / "run.jsonl"
        export_all(store, run_id, out)
    lines = out.read_text().splitlines()
    bad = json.loads(lines[-1])
    bad["status"] = "finished"
    bad["e2e_ms"] = "fast"
    out.write_text("\n".join([*lines[:-1], json.dumps(bad)]) + "\n")
    before_bytes, before_rows = db.read_bytes(), rows_of(db)
    with pytest.raises(RunFileError) as err:
        read_run_file(out)
    text = str(err.value)
    assert f"{out}:{len(lines)}: status: Input should be 'ok', 'error' or 'timeout'" in text
    assert f"{out}:{len(lines)}: e2e_ms: Input should be a valid number" in text
    assert "2 problems" in text and "nothing was stored" in text
    assert db.read_bytes() == before_bytes and rows_of(db) == before_rows


def test_a_write_that_fails_halfway_leaves_every_row(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "wb.db"
    store = Store(db)
    run_id = interrupted_run(store)
    out = tmp_path / "run.jsonl"
    export_all(store, run_id, out)
    run = read_run_file(out)
    before = rows_of(db)
    calls = {"n": 0}
    original = Store._insert_response

    def failing(c: sqlite3.Connection, rec: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 100:
            raise sqlite3.OperationalError("database or disk is full")
        original(c, rec)

    monkeypatch.setattr(Store, "_insert_response", staticmethod(failing))
    with pytest.raises(StoreError, match="no space left"):
        store_imported_run(store, run)
    assert calls["n"] == 100 and rows_of(db) == before


@pytest.mark.parametrize(("line", "where", "message"), [
    ("not json", ":2: ", "not valid JSON"),
    ('{"question_id": "q9", "stack": "x", "status": "ok", "question": "Q?"}', ":2: e2e_ms: ",
     "the end-to-end latency in milliseconds is required"),
    ('{"question_id": "q1", "stack": "a", "status": "ok", "question": "Q?", "e2e_ms": 5}',
     ":2: attempt: ", "already on line 1"),
    ('{"question_id": "q1", "stack": "b", "status": "ok", "question": "Other?", "e2e_ms": 5}',
     ":2: question: ", "differs from line 1"),
    ('{"question_id": "q2", "stack": "b", "status": "ok", "question": "Q?", "e2e_ms": 5, '
     '"ttft_ms": 9}', ":2: ttft_ms: ", "later than e2e_ms"),
    ('{"question_id": "q2", "stack": "b", "status": "ok", "question": "Q?", "e2e_ms": 5, '
     '"gold_answers": "[1, 2"}', ":2: gold_answers: ",
     "not valid JSON text (Expecting ',' delimiter at column 6)"),
])
def test_each_malformed_row_is_refused_with_line_and_field(tmp_path: Path, line: str,
                                                           where: str, message: str) -> None:
    path = tmp_path / "r.jsonl"
    first = {"question_id": "q1", "stack": "a", "status": "ok", "question": "Q?", "e2e_ms": 5}
    path.write_text(json.dumps(first) + "\n" + line + "\n")
    with pytest.raises(RunFileError) as err:
        read_run_file(path)
    assert f"{path}{where}" in str(err.value) and message in str(err.value)


def test_one_stack_unknown_baseline_and_format_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rows = [{"question_id": "q1", "stack": "a", "status": "ok", "question": "Q?", "e2e_ms": 5}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(RunFileError, match="a run compares 2 or more stacks"):
        read_run_file(path)
    rows.append({**rows[0], "stack": "b"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(RunFileError, match=r"--baseline 'c' is not a stack of the file \(a, b\)"):
        read_run_file(path, baseline="c")
    assert read_run_file(path, baseline="b").baseline == "b"
    with pytest.raises(RunFileError, match=r"r\.xlsx: unknown format"):
        read_run_file(tmp_path / "r.xlsx")


def test_a_file_of_more_stacks_than_a_run_compares_is_refused(tmp_path: Path) -> None:
    """The importer holds a file to the runner's own limit (`runner.picks.MAX_STACKS`)."""
    path = tmp_path / "r.jsonl"
    row = {"question_id": "q1", "status": "ok", "question": "Q?", "e2e_ms": 5}
    path.write_text("".join(json.dumps({**row, "stack": f"s{i}"}) + "\n" for i in range(9)))
    with pytest.raises(RunFileError, match="a run compares at most 8 stacks; the file has 9"):
        read_run_file(path)
    path.write_text("".join(json.dumps({**row, "stack": f"s{i}"}) + "\n" for i in range(8)))
    assert len(read_run_file(path).stacks) == 8
