"""Benchmarks (`make bench`): each module here has `run() -> None` that prints its numbers."""
