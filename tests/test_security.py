"""Source-tree guards: no shell, no unsafe YAML, and a hostile recipe is rejected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.stacks.recipe import RecipeError, load_recipe, load_stacks

PACKAGE = Path(__file__).resolve().parent.parent / "workbench"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _hits(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [f"{p.relative_to(PACKAGE.parent)}:{n}: {line.strip()}"
            for p in SOURCES for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if rx.search(line)]


def test_sources_found() -> None:
    assert len(SOURCES) > 50  # the guards below would pass vacuously on an empty tree


def test_no_shell_true() -> None:
    """Every process is started from an argv list: nothing user-supplied meets a shell."""
    assert _hits(r"shell\s*=\s*True") == []
    assert _hits(r"\bos\.(system|popen)\(") == []


def test_yaml_is_only_loaded_safely() -> None:
    """yaml.load / unsafe_load / full_load can build arbitrary Python objects."""
    assert _hits(r"\byaml\.(load|unsafe_load|full_load|load_all|unsafe_load_all)\(") == []
    assert _hits(r"Loader\s*=\s*yaml\.(Loader|UnsafeLoader|FullLoader)") == []
    assert _hits(r"\byaml\.safe_load\(")  # recipes are YAML, and loaded safely


HOSTILE = """\
name: evil
engine: llamacpp
ports: {rag: 18000, engine: 18001}
description: !!python/object/apply:os.system ["touch {marker}"]
"""


def test_python_tag_in_a_recipe_is_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    recipe = tmp_path / "evil.yaml"
    recipe.write_text(HOSTILE.replace("{marker}", str(marker)))
    with pytest.raises(RecipeError) as exc:
        load_recipe(recipe)
    assert str(recipe) in str(exc.value)
    assert "python/object/apply" in str(exc.value)
    with pytest.raises(RecipeError, match=re.escape(str(recipe))):
        load_stacks(tmp_path)
    assert not marker.exists()


def test_python_tag_in_a_rag_service_recipe_is_rejected(tmp_path: Path) -> None:
    """`python -m workbench.rag --recipe x.yaml` loads YAML too (safely)."""
    from workbench.rag.__main__ import load_stack

    marker = tmp_path / "pwned"
    recipe = tmp_path / "evil.yaml"
    recipe.write_text(HOSTILE.replace("{marker}", str(marker)))
    with pytest.raises(SystemExit) as exc:
        load_stack(recipe)
    assert str(recipe) in str(exc.value.code)
    assert "python/object/apply" in str(exc.value.code)
    assert not marker.exists()
