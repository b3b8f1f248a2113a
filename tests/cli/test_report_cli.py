"""`workbench report` and `runs list` on a stored run; the optional LLM judge end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.test_db import new_run, record
from workbench.store import Store


def workbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True,
                          text=True, timeout=600, check=False, env={**os.environ, **(env or {})})


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "wb.db"
    store = Store(db)
    run_id = new_run(store)
    for side in ("A", "B"):
        store.add_response(record(run_id, "q1", side))
        store.add_response(record(run_id, "q2", side, answer="I don't know"))
    store.set_status(run_id, "completed")
    store.close()
    return db, run_id


def test_report_json_markdown_and_runs_list(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, run_id = stored
    env = {"WORKBENCH_STATE_DIR": str(tmp_path / "state")}
    card = json.loads(workbench("report", run_id[:12], "--format", "json", "--no-semantic",
                                "--db", str(db), env=env).stdout)
    assert card["run_id"] == run_id and card["n_pairs"] == 2
    assert card["summaries"]["alpha"]["quality"]["exact_match"] == 1.0  # "Ann", a refusal
    assert card["stacks"] == ["alpha", "beta"] and card["baseline"] == "alpha"
    table = workbench("report", "latest", "--no-semantic", "--db", str(db), env=env)
    assert table.returncode == 0 and "Choice" in table.stdout and "Leaderboard" in table.stdout
    # Two identical stacks: a tie on quality and latency is no reason to prefer either.
    assert "no clear winner: alpha and beta are statistically tied" in table.stdout
    md = (tmp_path / "state" / "reports" / f"{run_id}.md").read_text()
    assert md.startswith("# Scorecard") and "**Choice:** no clear winner" in md
    runs = json.loads(workbench("runs", "list", "--format", "json", "--db", str(db)).stdout)
    assert [(r["id"], r["status"], r["responses"]) for r in runs] == [(run_id, "completed", 4)]


def test_unknown_run_and_missing_db_are_clear_errors(stored: tuple[Path, str],
                                                     tmp_path: Path) -> None:
    db, _ = stored
    bad = workbench("report", "NOPE", "--db", str(db))
    assert bad.returncode == 2 and "no run 'NOPE'" in bad.stderr
    missing = workbench("report", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "none.db" in missing.stderr


@pytest.mark.slow
@pytest.mark.llamacpp
def test_judge_grades_and_is_recorded_in_the_manifest(stored: tuple[Path, str],
                                                      llama_server: str, tmp_path: Path) -> None:
    db, run_id = stored
    done = workbench("report", run_id, "--format", "json", "--no-semantic", "--judge-url",
                     llama_server, "--judge-model", "smollm2-135m-instruct", "--db", str(db),
                     env={"WORKBENCH_STATE_DIR": str(tmp_path / "state"),
                          "WORKBENCH_JUDGE_API_KEY": "sk-secret-judge-key"})
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads(done.stdout)
    keys = {c["key"] for c in card["comparisons"]}
    assert {"judge_correct", "judge_faithful"} <= keys
    manifest = Store(db).get_run(run_id)["manifest"]
    assert manifest["judge"]["model"] == "smollm2-135m-instruct"
    assert manifest["judge"]["base_url"] == llama_server
    assert "{answer}" in manifest["judge"]["prompt"]  # the template itself is recorded
    stored_bytes = b"".join(p.read_bytes() for p in db.parent.glob("wb.db*"))
    assert b"sk-secret-judge-key" not in stored_bytes


def test_choose_and_its_gate(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, run_id = stored
    ok = workbench("choose", run_id, "--format", "json", "--db", str(db))
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert body["chosen"] is None and [r["stack"] for r in body["ranked"]] == ["alpha", "beta"]
    # Two questions cannot show a drop of at most 0.02: a non-inferiority gate says it does
    # not know (exit 3) and how many questions would settle it, rather than passing.
    unsure = workbench("choose", run_id, "--gate", "--max-drop", "f1=0.02", "--db", str(db))
    assert unsure.returncode == 3, unsure.stderr
    assert "The gate is inconclusive (exit 3)." in unsure.stderr
    assert "would settle it" in unsure.stderr
    blocked = workbench("choose", run_id, "--gate", "--min", "f1>=1.5", "--db", str(db))
    assert blocked.returncode == 1
    assert "The gate fails because no stack meets every constraint" in blocked.stderr
    assert "The gate fails (exit 1)." in blocked.stderr
    bad = workbench("choose", run_id, "--slo", "fast please", "--db", str(db))
    assert bad.returncode == 2 and "cannot read constraint 'fast please'" in bad.stderr
    who = workbench("choose", run_id, "--gate", "--candidate", "gamma", "--db", str(db))
    assert who.returncode == 2 and "gamma not a candidate" in who.stderr


def test_report_and_export_carry_the_votes(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, run_id = stored
    with Store(db) as store:
        for vote in ("A", "A", "tie", "B"):
            store.add_vote(question="Who?", stack_a="alpha", stack_b="beta", vote=vote,
                           blind=True, detail={})
        # An open vote: left out of the ratings unless they pool every vote.
        store.add_vote(question="Who?", stack_a="alpha", stack_b="beta", vote="A",
                       blind=False, detail={})
    env = {"WORKBENCH_STATE_DIR": str(tmp_path / "state")}
    table = workbench("report", run_id, "--no-semantic", "--db", str(db), env=env)
    assert table.returncode == 0, table.stderr
    assert "Human votes (arena)" in table.stdout and "2-1-1" in table.stdout
    assert "5 arena votes between this run's stacks (4 blind; 5 on this run's questions)" \
        in table.stdout
    pooled = workbench("report", run_id, "--no-semantic", "--pool-votes", "--db", str(db),
                       env=env)
    assert pooled.returncode == 0, pooled.stderr
    assert "3-1-1" in pooled.stdout and "all 5 votes between these stacks, pooled" in \
        " ".join(pooled.stdout.split())
    md = (tmp_path / "state" / "reports" / f"{run_id}.md").read_text()
    assert "## Human votes (arena)" in md
    done = workbench("export", run_id, "--out", str(tmp_path / "r.jsonl"), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert f"wrote 5 votes to {tmp_path / 'r.votes.jsonl'}" in done.stdout
    rows = [json.loads(x) for x in (tmp_path / "r.votes.jsonl").read_text().splitlines()]
    assert [r["winner"] for r in rows] == ["alpha", "alpha", None, "beta", "alpha"]
