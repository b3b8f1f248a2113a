"""The Textual terminal UI: stacks, runs, results and history over the results store.

`workbench tui [--db PATH]` opens `WorkbenchApp`; every number it shows comes from
`workbench.report.stored.scorecard_for_run`, the code path `workbench report` uses.
"""

from __future__ import annotations

from workbench.tui.app import WorkbenchApp

__all__ = ["WorkbenchApp"]
