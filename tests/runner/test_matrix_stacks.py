"""A matrix file names as many stacks as one run compares (`runner.picks`, the one limit),
refused otherwise with the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.runner.matrix import load_matrix
from workbench.runner.picks import MAX_STACKS, MIN_STACKS
from workbench.stacks.recipe import RecipeError


def _matrix(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "m.yaml"
    names = ", ".join(f"s{i}" for i in range(n))
    path.write_text(f"name: m\nevalset: demo-en\nstacks: [{names}]\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("n", [MIN_STACKS - 1, MAX_STACKS + 1])
def test_a_matrix_of_too_few_or_too_many_stacks_is_refused(tmp_path: Path, n: int) -> None:
    path = _matrix(tmp_path, n)
    with pytest.raises(RecipeError) as err:
        load_matrix(path)
    assert f"{path}: field stacks: List should have at " in str(err.value)


@pytest.mark.parametrize("n", [MIN_STACKS, MAX_STACKS])
def test_a_matrix_at_the_limits_is_read(tmp_path: Path, n: int) -> None:
    assert len(load_matrix(_matrix(tmp_path, n)).stacks) == n
