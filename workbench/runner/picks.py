"""How many stacks one run compares, and why a pick of stacks cannot make a run: the one
rule the runner (`--stacks`, `--baseline`), the web's Run tab and the TUI's Run screen
apply. No imports: the views load it at start-up."""

from __future__ import annotations

from collections.abc import Sequence

#: The fewest and the most stacks one run compares (each against the baseline, Holm over
#: them all).
MIN_STACKS, MAX_STACKS = 2, 8


def stacks_problem(names: Sequence[str], baseline: str | None = None
                   ) -> tuple[str, str] | None:
    """(the field at fault, `stacks` or `baseline`; why) these stacks in this order and
    this baseline (None: the first) cannot make a run; None when they can."""
    if not MIN_STACKS <= len(names) <= MAX_STACKS:
        return "stacks", (f"a run compares {MIN_STACKS} to {MAX_STACKS} stacks, got "
                          f"{len(names)} ({', '.join(names) or 'none'})")
    dupes = sorted({n for n in names if list(names).count(n) > 1})
    if dupes:
        return "stacks", f"{', '.join(dupes)} named more than once"
    if baseline is not None and baseline not in names:
        return "baseline", (f"{baseline!r} is not one of the run's stacks "
                            f"({', '.join(names)})")
    return None


__all__ = ["MAX_STACKS", "MIN_STACKS", "stacks_problem"]
