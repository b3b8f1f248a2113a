"""A matrix file's `judge:` setting: read strictly, with file and field in every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.runner.matrix import load_matrix
from workbench.stacks.recipe import RecipeError

BASE = "name: m\nevalset: demo-en\nstacks: [llamacpp-cpu, vllm-cpu]\n"


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def test_local_judge_setting(tmp_path: Path) -> None:
    m = load_matrix(_write(tmp_path, "judge: {kind: local, model: qwen2.5-0.5b-instruct, "
                                     "sample: 30, pairwise: true}\n"))
    assert m.judge is not None
    assert (m.judge.kind, m.judge.model, m.judge.sample, m.judge.pairwise) == (
        "local", "qwen2.5-0.5b-instruct", 30, True)
    assert load_matrix(_write(tmp_path, "")).judge is None


@pytest.mark.parametrize(("extra", "says"), [
    ("judge: {kind: local, model: gpt-9}\n", "judge.model"),
    ("judge: {kind: local, samples: 3}\n", "judge.samples"),
    ("judge: {kind: url, model: m}\n", "kind url needs both url and model"),
    ("judge: {kind: local, sample: -1}\n", "judge.sample"),
])
def test_bad_judge_settings_name_the_file_and_field(tmp_path: Path, extra: str,
                                                    says: str) -> None:
    with pytest.raises(RecipeError) as err:
        load_matrix(_write(tmp_path, extra))
    assert str(tmp_path / "m.yaml") in str(err.value) and says in str(err.value)
