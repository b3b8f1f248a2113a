"""The last lines of a stack's log files (engine and RAG service)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log

#: Bytes read from the end of each log: enough for ~200 lines, cheap on a 1 GB log.
TAIL_BYTES = 32_768


def tail_lines(path: Path, lines: int = 200) -> list[str]:
    """The last `lines` lines of a text file (empty when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            data = f.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES:
        text = text[1:]  # the first line is cut mid-way
    return text[-lines:]


def read_logs(logs: dict[str, Path], lines: int = 200) -> list[str]:
    """Each role's tail under a `== role: path ==` header."""
    out: list[str] = []
    for role, path in logs.items():
        out.append(f"== {role}: {path} ==")
        out.extend(tail_lines(path, lines) or ["(empty)"])
    return out


class LogTail(Log):
    """A read-only log pane; `show` replaces its content only when it changed."""

    DEFAULT_CSS = """
    LogTail {
        height: 1fr;
        border: round $primary-muted;
    }
    LogTail:focus {
        border: round $accent;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=1000, id=id)
        self._shown: list[str] = []

    def show(self, title: str, lines: list[str]) -> None:
        """Replace the content (kept when unchanged, so the scroll position stays)."""
        self.border_title = title
        if lines == self._shown:
            return
        self._shown = lines
        self.clear()
        self.write_lines(lines)
