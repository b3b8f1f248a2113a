"""Ports of a run's stacks: the first two keep 8000 and 9000, none ever collide."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.runner.matrix import load_matrix
from workbench.settings import get_settings
from workbench.stacks.placement import placed_for_run
from workbench.stacks.recipe import RecipeError, get_stack


def _stacks(*names: str) -> list:  # type: ignore[type-arg]
    folder = get_settings().stacks_dir
    return [get_stack(n, folder) for n in names]


def test_first_two_on_8000_and_9000_and_the_rest_on_their_own_ports() -> None:
    placed = placed_for_run(_stacks("vllm-cpu", "llamacpp-cpu", "llamacpp-cpu-qwen05",
                                    "vllm-cpu-qwen05"))
    assert [(s.ports.rag, s.ports.engine) for s in placed] == [
        (8000, 8001), (9000, 9001), (8100, 8101), (9100, 9101)]


def test_a_third_stack_whose_recipe_ports_are_taken_moves_to_free_ones() -> None:
    # llamacpp-cpu's own recipe ports are 8000/8001; as third it must not take the first's.
    placed = placed_for_run(_stacks("vllm-cpu", "vllm-cpu-qwen05", "llamacpp-cpu"))
    ports = [p for s in placed for p in (s.ports.rag, s.ports.engine)]
    assert len(ports) == len(set(ports))
    assert placed[2].ports.rag not in (8000, 8001, 9000, 9001)


def test_matrix_files_are_strict_and_name_the_field(tmp_path: Path) -> None:
    shipped = load_matrix(get_settings().stacks_dir / "matrix" / "cpu.yaml")
    assert shipped.stacks[0] == shipped.baseline == "llamacpp-cpu"
    assert len(shipped.stacks) == 4 and shipped.choice.slo == ["e2e.p90<=10s"]
    bad = tmp_path / "m.yaml"
    bad.write_text("name: m\nevalset: demo-en\nstacks: [a, b]\nchoice: {slo: ['soon']}\n")
    with pytest.raises(RecipeError, match=r"m\.yaml: field choice\.slo: cannot read "
                                          r"constraint 'soon'"):
        load_matrix(bad)
    bad.write_text("name: m\nevalset: demo-en\nstacks: [a, b]\nbaseline: c\n")
    with pytest.raises(RecipeError, match=r"field baseline: 'c' is not in stacks"):
        load_matrix(bad)
    bad.write_text("name: m\nevalset: demo-en\nstacks: [a]\n")
    with pytest.raises(RecipeError, match=r"field stacks"):
        load_matrix(bad)
    bad.write_text("name: m\nevalset: demo-en\nstacks: [a, b]\ncolour: red\n")
    with pytest.raises(RecipeError, match=r"field colour: unknown key"):
        load_matrix(bad)
