"""`python -m workbench.bench [--tiny] [NAME ...]`: run every benchmark module (or the named
ones). `--tiny` (or `WORKBENCH_BENCH_TINY=1`) runs each on a tiny input: seconds, not
minutes, for the smoke test that keeps every benchmark working; its numbers mean nothing."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback

import workbench.bench as package


def available() -> list[str]:
    """The benchmark modules, in name order."""
    # `__main__` (this module) and private helpers are not benchmarks: importing this one
    # again and calling its `run` was what made a bare `make bench` fail at once.
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                  if not m.name.startswith("_"))


def main(args: list[str]) -> int:
    """Run the named benchmark modules (all when none are named), in name order."""
    tiny = "--tiny" in args or os.environ.get("WORKBENCH_BENCH_TINY") == "1"
    names = [a for a in args if a != "--tiny"]
    known = available()
    chosen = names or known
    unknown = [n for n in chosen if n not in known]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {known}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== bench: {name}{' (tiny)' if tiny else ''} ===", flush=True)
        try:
            importlib.import_module(f"workbench.bench.{name}").run(tiny=tiny)
        except Exception:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            failed.append(name)
    if failed:
        print(f"\nbenchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
