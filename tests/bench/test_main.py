"""`python -m workbench.bench`: every module it lists is a benchmark with `run()`."""

from __future__ import annotations

import importlib
import pkgutil

import workbench.bench as package
from workbench.bench.__main__ import main


def test_every_listed_benchmark_has_run_and_unknown_names_are_refused(
        capsys: object) -> None:
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                   if not m.name.startswith("_"))
    assert "__main__" not in names and {"rag", "scoring", "engines"} <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"workbench.bench.{name}").run), name
    assert main(["no-such-bench"]) == 2
