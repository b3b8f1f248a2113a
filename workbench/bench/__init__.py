"""Benchmarks (`make bench`): each module here has `run() -> None` that prints its numbers;
`python -m workbench.bench [NAME ...]` runs all of them, or the named ones."""

__all__: list[str] = []  # nothing to import: the benchmarks are run, not called
