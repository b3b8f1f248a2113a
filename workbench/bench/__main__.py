"""`python -m workbench.bench [NAME ...]`: run every benchmark module (or the named ones)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import workbench.bench as package


def main(names: list[str]) -> int:
    """Run the named benchmark modules (all when none are named), in name order."""
    # `__main__` (this module) and private helpers are not benchmarks: importing this one
    # again and calling its `run` was what made a bare `make bench` fail at once.
    available = sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                       if not m.name.startswith("_"))
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {available}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"\n=== bench: {name} ===", flush=True)
        importlib.import_module(f"workbench.bench.{name}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
