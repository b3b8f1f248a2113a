"""`workbench evalsets build` refuses bad input before any model starts, and `validate`
says when a set is generated or questions-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench.cli.evalsets  # noqa: F401 -- registers the commands on the app
from tests.evalsets.build_docs import DOCS, reviewable_set
from tests.evalsets.helpers import PASSAGES, write_jsonl
from workbench.cli.app import app


@pytest.fixture(autouse=True)
def _tmp_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))


def _build(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["evalsets", "build", *args,
                                      "--model", "smollm2-135m-instruct"])
    return result.exit_code, result.output


def test_missing_docs_folder_is_named(tmp_path: Path) -> None:
    code, out = _build(str(tmp_path / "nope"), "-o", str(tmp_path / "out"))
    assert code == 2 and f"{tmp_path / 'nope'}: not a folder" in out


def test_folder_without_readable_documents_lists_what_was_skipped(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_bytes(b"\xff\xfe broken")
    (docs / "photo.jpg").write_bytes(b"\xff\xd8")
    code, out = _build(str(docs), "-o", str(tmp_path / "out"))
    assert code == 2 and "no passages to ask about (1 file(s) skipped)" in out
    assert "notes.txt:1: invalid UTF-8" in out
    assert not (tmp_path / "out").exists()


def test_an_unknown_model_lists_the_known_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["evalsets", "build", str(DOCS), "-o", str(tmp_path / "o"),
                                      "--model", "gpt-9"])
    assert result.exit_code == 2 and "unknown model 'gpt-9'" in result.output
    assert "qwen2.5-1.5b-instruct" in result.output


def test_a_folder_that_is_not_a_generated_set_is_never_written_over(tmp_path: Path) -> None:
    out = tmp_path / "labelled"
    out.mkdir()
    (out / "questions.jsonl").write_text("{}\n", "utf-8")
    code, text = _build(str(DOCS), "-o", str(out), "--overwrite")
    assert code == 2 and "not a generated eval set" in text
    assert (out / "questions.jsonl").read_text("utf-8") == "{}\n"


def test_validate_says_generated_and_questions_only(tmp_path: Path) -> None:
    folder = reviewable_set(tmp_path)
    result = CliRunner().invoke(app, ["evalsets", "validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "generated: true, by qwen2.5-0.5b-instruct (sha256 000000000000...)" in result.output
    bare = tmp_path / "bare"
    bare.mkdir()
    write_jsonl(bare / "corpus.jsonl", PASSAGES)
    (bare / "questions.jsonl").write_text(json.dumps({"id": "u1", "question": "Leave?"}) + "\n")
    result = CliRunner().invoke(app, ["evalsets", "validate", str(bare)])
    assert result.exit_code == 0, result.output
    assert "questions-only: 1 answerable questions without gold answers" in result.output
