"""Eval set errors that say exactly where: every problem names its file, line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: How many problems one error lists; a broken file can have thousands, a person reads 20.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an eval set, at a place a person can open in an editor."""

    path: str
    """The file (or hub id) the problem is in."""
    line: int | None
    """1-based line for JSON Lines and CSV, record number for Parquet; None: whole file."""
    field: str | None
    """The field that is wrong (`answers`, `data[0].paragraphs[2].context`), if one is."""
    message: str
    """What is wrong, in words."""

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.field:
            where = f"{where}: {self.field}"
        return f"{where}: {self.message}"


class EvalSetError(ValueError):
    """An eval set cannot be loaded; `problems` lists what is wrong and where."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = max(total or 0, len(problems))
        lines = [str(p) for p in problems]
        if self.total > len(problems):
            lines.append(f"... and {self.total - len(problems)} more")
        head = "1 problem" if self.total == 1 else f"{self.total} problems"
        super().__init__(f"eval set has {head}:\n  " + "\n  ".join(lines))

    @classmethod
    def at(cls, path: str | Path, message: str, line: int | None = None) -> EvalSetError:
        """An error with a single problem (a missing file, an unreadable source)."""
        return cls([Problem(str(path), line, None, message)])


@dataclass
class ProblemLog:
    """Collects problems (keeping the first `cap`) so one error can report them all."""

    cap: int = MAX_PROBLEMS
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, path: str | Path, line: int | None, field: str | None, message: str) -> None:
        """Record a problem; past the cap it is only counted."""
        self.total += 1
        if len(self.problems) < self.cap:
            self.problems.append(Problem(str(path), line, field, message))

    def raise_if_any(self) -> None:
        """Raise one `EvalSetError` listing everything recorded so far, if anything was."""
        if self.total:
            raise EvalSetError(list(self.problems), self.total)
