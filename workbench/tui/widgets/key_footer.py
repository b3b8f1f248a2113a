"""The footer of key bindings, rebuilt once per refresh rather than once per change.

Textual's Footer recomposes all its keys on every bindings update, and opening a screen
sends several (screen stack, focus, ...): on the Results screen that was ~100 key widgets
restyled, most of the CPU cost of opening it. One rebuild after the burst shows the same
bindings, since the rebuild reads them when it runs.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """A Footer that coalesces bursts of binding updates into one rebuild."""

    DEFAULT_CSS = """
    KeyFooter {
        height: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._rebuild_pending = False

    def on_resize(self) -> None:
        """Less space between keys on a narrow terminal (80 columns), so more keys fit."""
        self.compact = self.app.size.width < 100

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Schedule one rebuild; updates arriving before it runs are covered by it."""
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        super().bindings_changed(screen)  # schedules the recompose after the next refresh
        self.call_after_refresh(self._rebuilt)

    def _rebuilt(self) -> None:
        self._rebuild_pending = False
