"""`WorkbenchApp`: the terminal UI over one results store.

Four modes (each with its own screen stack), switched with 1-4 or from the command
palette (ctrl+p): Stacks, Run, Results, History. The Results mode shows `app.run_id`,
which History (Enter) and Run (a finished run) set.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import var

from workbench.settings import Settings, get_settings
from workbench.store.db import Store
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.screens.history import HistoryScreen
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.screens.run import RunScreen
from workbench.tui.screens.stacks import StacksScreen


class WorkbenchApp(App[None]):
    """RAG A/B workbench: stacks, runs, results and history of one results database."""

    CSS_PATH = "app.tcss"
    TITLE = "RAG A/B workbench"
    MODES: ClassVar = {
        "stacks": StacksScreen,
        "run": RunScreen,
        "results": ResultsScreen,
        "history": HistoryScreen,
    }
    #: Mode -> (key, title); the bindings and the command palette are built from it.
    SCREEN_KEYS: ClassVar[dict[str, tuple[str, str]]] = {
        "stacks": ("1", "Stacks"),
        "run": ("2", "Run"),
        "results": ("3", "Results"),
        "history": ("4", "History"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"switch_mode('{mode}')", title)
          for mode, (key, title) in SCREEN_KEYS.items()),
        Binding("z", "toggle_maximize", "Zoom", show=False),
        Binding("q", "quit", "Quit"),
    ]
    COMMANDS = App.COMMANDS | {WorkbenchCommands}

    #: The run the Results mode shows.
    run_id: var[str | None] = var(None)

    def __init__(self, db_path: Path | str | None = None, *, settings: Settings | None = None,
                 run_id: str | None = None, semantic: bool = True,
                 start_mode: str | None = None, refresh_s: float = 2.0) -> None:
        """`db_path` defaults to the settings' database; `refresh_s` paces stack polling."""
        super().__init__()
        self.settings = settings or get_settings()
        self.db_path = Path(db_path) if db_path is not None else self.settings.db_path
        self.semantic = semantic
        self.refresh_s = refresh_s
        self._start_run = run_id
        self._start_mode = start_mode
        self.store = Store(self.db_path)

    def on_mount(self) -> None:
        """Open on the asked run's results, else the latest run's, else the stacks."""
        try:
            ref = self._start_run or ("latest" if self.store.list_runs(limit=1) else None)
            self.run_id = self.store.resolve_run_id(ref) if ref else None
        except KeyError as exc:
            self.notify(str(exc.args[0]), severity="error")
        mode = self._start_mode or ("results" if self.run_id else "stacks")
        self.switch_mode(mode)
        self._warm_imports()

    @work(thread=True, group="imports")
    def _warm_imports(self) -> None:
        # why here: the scorecard (report.stored) pulls in scipy, seconds on a busy 2-core
        # box; loading it off the UI thread keeps start-up and the first screen switch quick
        # (the runner is already loaded: the Run screen imports it).
        import workbench.report.stored  # noqa: F401

    def show_results(self, run_id: str) -> None:
        """Make `run_id` the current run and show its results."""
        self.run_id = run_id
        self.switch_mode("results")

    def action_toggle_maximize(self) -> None:
        """Zoom the focused panel to the whole screen, or back (useful at 80x24)."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif self.focused is not None:
            screen.maximize(self.focused)

    def on_unmount(self) -> None:
        """Close the database."""
        self.store.close()
