"""One stack's progress in a run, on one line: its name, a bar, done, errors and the mean
E2E so far (a run of 8 stacks still fits the Run screen at 80x24)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label, ProgressBar


class StackProgress(Widget):
    """Live counters of one stack; the run screen sets the reactives, watchers redraw."""

    DEFAULT_CSS = """
    StackProgress {
        height: 1;
        layout: horizontal;
    }
    StackProgress .name {
        width: 24;
    }
    StackProgress ProgressBar {
        width: 22;
    }
    StackProgress .metrics {
        width: 1fr;
    }
    StackProgress.error .name {
        color: $error;
    }
    StackProgress.success .name {
        color: $success;
    }
    """

    done: reactive[int] = reactive(0)
    total: reactive[int] = reactive(0)
    errors: reactive[int] = reactive(0)
    #: Sum of E2E seconds of the successful responses (mean = sum / ok).
    e2e_sum: reactive[float] = reactive(0.0)

    def __init__(self, stack: str, *, baseline: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stack = stack
        self.baseline = baseline

    def compose(self) -> ComposeResult:
        """Name, bar (with its own percentage), counters."""
        name = self.stack + (" (base)" if self.baseline else "")
        yield Label(name[:23], classes="name")
        yield ProgressBar(total=1, show_eta=False)
        yield Label(self._metrics(), classes="metrics")

    def on_mount(self) -> None:
        """Draw the initial counters."""
        self._redraw()

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
        return f" {self.done}/{self.total} err {self.errors} E2E {mean_text}"

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
        """A failure: the stack's name turns to the error colour."""
        self._redraw()
