"""One stack's progress in a run: a bar plus done, errors and mean E2E so far."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label, ProgressBar


class SideProgress(Widget):
    """Live counters of one side; the run screen sets the reactives, watchers redraw."""

    DEFAULT_CSS = """
    SideProgress {
        height: auto;
        border: round $primary-muted;
        padding: 0 1;
    }
    SideProgress.error {
        border: round $error;
    }
    SideProgress.success {
        border: round $success;
    }
    SideProgress ProgressBar {
        width: 1fr;
    }
    """

    done: reactive[int] = reactive(0)
    total: reactive[int] = reactive(0)
    errors: reactive[int] = reactive(0)
    #: Sum of E2E seconds of the successful responses (mean = sum / ok).
    e2e_sum: reactive[float] = reactive(0.0)

    def __init__(self, side: str, stack: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.side = side
        self.border_title = f"{side}: {stack}" if stack else side

    def compose(self) -> ComposeResult:
        """The bar (with its own percentage) and a line of counters."""
        yield ProgressBar(total=1, show_eta=False)
        yield Label(self._metrics(), classes="metrics")

    def on_mount(self) -> None:
        """Draw the initial counters."""
        self._redraw()

    def set_stack(self, stack: str) -> None:
        """Name the stack this side runs."""
        self.border_title = f"{self.side}: {stack}"

    def reset(self, total: int) -> None:
        """Start counting a (resumed) run with `total` pending requests."""
        self.done, self.errors, self.e2e_sum = 0, 0, 0.0
        self.total = total
        self.set_class(False, "error", "success")

    @property
    def mean_e2e(self) -> float | None:
        """Mean E2E of the successful responses so far (None before the first)."""
        ok = self.done - self.errors
        return self.e2e_sum / ok if ok else None

    def _metrics(self) -> str:
        mean = self.mean_e2e
        mean_text = "-" if mean is None else f"{mean * 1000:.0f} ms"
        return f"done {self.done}/{self.total}   errors {self.errors}   mean E2E {mean_text}"

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        # Never indeterminate (total None): its animation would make the screen flicker
        # over SSH and snapshots nondeterministic.
        self.query_one(ProgressBar).update(total=max(self.total, 1), progress=self.done)
        self.query_one(".metrics", Label).update(self._metrics())
        self.set_class(self.errors > 0, "error")
        self.set_class(self.total > 0 and self.done >= self.total and not self.errors, "success")

    def watch_done(self) -> None:
        """A response was stored: move the bar, update the counters (and the mean)."""
        self._redraw()

    def watch_total(self) -> None:
        """The number of pending requests is known."""
        self._redraw()

    def watch_errors(self) -> None:
        """A failure: the panel turns to the error state."""
        self._redraw()
