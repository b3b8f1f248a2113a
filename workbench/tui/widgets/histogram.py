"""A latency histogram drawn with unicode block characters.

Plain text rather than a plotext canvas: it renders in microseconds, reads the same over
SSH, at 80 columns and under NO_COLOR, and gives deterministic snapshots.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bin_counts(values: list[float], lo: float, hi: float, bins: int) -> list[int]:
    """How many values fall in each of `bins` equal-width bins over [lo, hi]."""
    counts = [0] * bins
    width = (hi - lo) / bins if hi > lo else 1.0
    for v in values:
        i = int((v - lo) / width) if hi > lo else 0
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


def bar(fraction: float, width: int) -> str:
    """A horizontal bar `fraction` of `width` cells long, with eighth-cell resolution."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[rest] if rest else "")).ljust(width)


class LatencyHistogram(Widget):
    """E2E latency distribution of one side; both sides share `bounds` so bars compare."""

    DEFAULT_CSS = """
    LatencyHistogram {
        height: auto;
        min-height: 3;
        border: round $primary-muted;
        padding: 0 1;
    }
    """

    #: Latencies in seconds (successful requests only).
    values: reactive[tuple[float, ...]] = reactive((), layout=True)
    #: Shared x-range (seconds) of both sides' histograms.
    bounds: reactive[tuple[float, float]] = reactive((0.0, 1.0))
    bins: reactive[int] = reactive(6, layout=True)

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title

    def render(self) -> Text:
        """Bins as rows: range, bar, count; then p50/p95 of the values."""
        values = list(self.values)
        if not values:
            return Text("no successful requests")
        lo, hi = self.bounds
        counts = bin_counts(values, lo, hi, self.bins)
        peak = max(counts) or 1
        step = (hi - lo) / self.bins
        bar_width = max(4, self.content_size.width - 19)
        text = Text()
        for i, n in enumerate(counts):
            start_ms = (lo + i * step) * 1000
            text.append(f"{start_ms:>6.0f} ms ", style="dim")
            text.append(bar(n / peak, bar_width), style="bold")
            text.append(f" {n:>5}\n")
        ordered = sorted(values)
        p50 = ordered[len(ordered) // 2] * 1000
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
        text.append(f"n={len(values)}  p50≈{p50:.0f} ms  p95≈{p95:.0f} ms", style="dim")
        return text
