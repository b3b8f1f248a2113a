"""The floors hold (docs/architecture.md, "Floors"), measured from the source by the script
that prints them (`python -m workbench.bench imports`): every package on a floor, no import
up a floor beyond the known ones listed here with their reason, no import circle, a ground
floor that imports nothing else of the workbench, and a package that never imports tests.

The analyser itself is checked on a small planted tree, so a check that finds nothing is a
check that looked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from workbench.bench.imports import (
    Report,
    analyse,
    light_in_functions,
    loops_across_floors,
    render,
    unexplained,
)

#: Imports that still point up a floor, each with why; the test fails on a new one, and on
#: one listed here that is gone (so the list only shrinks). None is left: the tuning probe
#: reads its prompts as data (`stacks/tuning_prompts.json`, made by
#: `evalsets.tuning_prompts`) and compares answers with `normalize` (floor 1).
KNOWN_UP: dict[tuple[str, str], str] = {}

#: Imports of light modules placed inside functions (statements), the CLI included (its
#: commands load lazily: `workbench.cli.app`). None is left: an import inside a function is
#: for a heavy optional dependency (with its `# why here:`), and a light one goes at the top.
LIGHT_IN_FUNCTIONS = 0


@pytest.fixture(scope="module")
def report() -> Report:
    return analyse()


def test_every_package_has_a_floor(report: Report) -> None:
    assert report.unfloored == []


def test_no_import_circle(report: Report) -> None:
    assert report.circles == [], render(report)


def test_no_import_points_up_a_floor_but_the_known_ones(report: Report) -> None:
    found = {(imp.module, target) for imp, target in report.up}
    assert found - set(KNOWN_UP) == set(), render(report)
    assert set(KNOWN_UP) - found == set(), "gone: remove them from KNOWN_UP"


def test_no_package_group_imports_each_other_across_floors(report: Report) -> None:
    # Packages on one floor may import each other (host and stacks do); across floors such a
    # group means an arrow up, which a deferred import could otherwise hide in a loop.
    assert loops_across_floors(report) == [], render(report)


def test_the_ground_floor_imports_only_itself_pydantic_and_the_standard_library(
        report: Report) -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "__future__"}
    wrong = [(imp.module, imp.line, imp.target) for imp in report.imports
             if imp.module.startswith("workbench.records")
             and not imp.target.startswith("workbench.records")
             and imp.target.split(".")[0] not in allowed]
    assert wrong == []


def test_the_package_never_imports_tests(report: Report) -> None:
    assert [(i.module, i.line) for i in report.imports if i.target.split(".")[0] == "tests"] \
        == []


def test_imports_inside_functions_do_not_grow(report: Report) -> None:
    assert len(light_in_functions(report)) <= LIGHT_IN_FUNCTIONS, render(report)


def test_every_heavy_import_inside_a_function_says_why(report: Report) -> None:
    silent = [(i.module, i.line, i.target) for i in unexplained(report)]
    assert silent == []


def _plant(root: Path, files: dict[str, str]) -> Path:
    package = root / "workbench"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in [package, *[p for p in package.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return package


def test_the_analyser_finds_a_planted_arrow_up_and_a_circle(tmp_path: Path) -> None:
    package = _plant(tmp_path, {
        "records/a.py": "def f() -> None:\n    from workbench.cli import b  # deferred\n",
        "cli/b.py": "from workbench.records import a\n",
        "store/c.py": ("from typing import TYPE_CHECKING\n"
                       "if TYPE_CHECKING:\n    from workbench.cli import b\n"),
    })
    found = analyse(package)
    assert [(i.module, i.line, t) for i, t in found.up] == [
        ("workbench.records.a", 2, "workbench.cli.b")]
    assert found.circles == [["workbench.cli.b", "workbench.records.a"]]
    assert loops_across_floors(found) == [["cli", "records"]]
    assert [(i.module, i.target) for i in found.in_function] == [
        ("workbench.records.a", "workbench.cli.b")]


def test_the_analyser_counts_a_package_init_as_an_edge(tmp_path: Path) -> None:
    # Importing a submodule runs its package's __init__: a circle through it is a circle.
    package = _plant(tmp_path, {
        "store/__init__.py": "from workbench.store.d import X\n",
        "store/d.py": "from workbench.rag.e import Y\nX = 1\n",
        "rag/e.py": "from workbench.store.f import Z\nY = 2\n",
        "store/f.py": "Z = 3\n",
    })
    found = analyse(package)
    assert found.circles == [["workbench.rag.e", "workbench.store", "workbench.store.d"]]


def test_a_linter_pragma_is_no_reason_for_a_heavy_import_in_a_function(tmp_path: Path) -> None:
    pragma = "  # noqa" + ": F401\n"
    package = _plant(tmp_path, {
        "store/g.py": "def f() -> None:\n    import scipy" + pragma,
        "store/h.py": "def f() -> None:\n    import scipy  # why here: 5 s to import" + pragma,
        "store/i.py": "def f() -> None:\n    # why here: 5 s to import\n    import scipy" + pragma,
    })
    found = analyse(package)
    assert [(i.module, i.line) for i in unexplained(found)] == [("workbench.store.g", 2)]
