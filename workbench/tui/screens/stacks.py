"""Stacks: every recipe with its live state and health, start/stop, and its log tail.

Polling runs in a thread worker on a timer (health checks are HTTP calls with timeouts);
`up` can take minutes (vLLM loads in 20-30 s, a compose pull longer), so it runs in its
own thread worker and reports back with a notification.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Static

from workbench.stacks.launcher import down, up
from workbench.stacks.recipe import get_stack, load_stacks
from workbench.stacks.state import run_dir
from workbench.stacks.status import status
from workbench.tui.widgets.key_footer import KeyFooter
from workbench.tui.widgets.log_tail import LogTail, read_logs

if TYPE_CHECKING:
    from workbench.stacks.status import StackStatus
    from workbench.tui.app import WorkbenchApp

COLUMNS = (("name", "Stack"), ("alias", "A/B"), ("state", "State"), ("engine_h", "Engine"),
           ("rag_h", "RAG"), ("engine", "Kind"), ("model", "Model"), ("ports", "Ports"),
           ("rss", "RSS MiB"))
_STATE_STYLE = {"running": "bold green", "degraded": "bold yellow", "down": "dim",
                "starting": "bold cyan", "stopping": "bold cyan"}


class StackRow:
    """One line of the table: a recipe and, when recorded, its status."""

    def __init__(self, name: str, engine: str, model: str, ports: str,
                 status: StackStatus | None) -> None:
        self.name = name
        self.engine = engine
        self.model = model
        self.ports = ports
        self.status = status

    def cells(self, busy: str | None) -> tuple[str | Text, ...]:
        """Displayed cells; `busy` overrides the state while starting/stopping."""
        s = self.status
        state = busy or (s.state if s else "down")
        # A symbol as well as a colour, so state reads under NO_COLOR too.
        symbol = {"running": "●", "degraded": "◐"}.get(state, "○")
        rss = f"{sum(s.rss_mib.values()):.0f}" if s and s.rss_mib else "-"
        return (self.name, (s.alias or "") if s else "",
                Text(f"{symbol} {state}", style=_STATE_STYLE.get(state, "")),
                s.engine_health if s else "-", s.rag_health if s else "-", self.engine,
                self.model, self.ports, rss)


def collect_rows(app: WorkbenchApp) -> list[StackRow]:
    """Recipes from the stacks folder merged with the recorded stacks' live status."""
    recipes = load_stacks(app.settings.stacks_dir)
    live = {s.name: s for s in status(app.settings)}
    rows = []
    for name in sorted(set(recipes) | set(live)):
        r, s = recipes.get(name), live.get(name)
        engine = r.engine if r else (s.engine if s else "?")
        model = (r.model.name if r and r.model else None) or (s.model if s else None) or "-"
        rag = s.rag_port if s else (r.ports.rag if r else 0)
        eng = s.engine_port if s else (r.ports.engine if r else None)
        rows.append(StackRow(name, engine, model, f"{rag}/{eng or '-'}", s))
    return rows


class StacksScreen(Screen[None]):
    """Live state of every stack; u/d start and stop the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "up", "Start"),
        Binding("d", "down", "Stop"),
        Binding("g", "refresh", "Refresh"),
    ]

    class Polled(Message):
        """The worker's fresh rows and the highlighted stack's log tail."""

        def __init__(self, rows: list[StackRow], log_name: str | None,
                     log_lines: list[str]) -> None:
            self.rows = rows
            self.log_name = log_name
            self.log_lines = log_lines
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[StackRow] = []
        #: Stack name -> "starting" / "stopping" while its worker runs.
        self.busy: dict[str, str] = {}
        self._timer: Timer | None = None

    @property
    def wb(self) -> WorkbenchApp:
        """The app, typed."""
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        """Stacks table, hint, log tail."""
        yield Header()
        yield DataTable(id="stacks-table", cursor_type="row", zebra_stripes=True)
        yield Static("u: start  d: stop  the log below follows the highlighted stack",
                     classes="hint")
        yield LogTail(id="stack-log")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns, a first poll, then one every `refresh_s`."""
        table = self.query_one("#stacks-table", DataTable)
        table.border_title = f"Stacks ({self.wb.settings.stacks_dir.name}/)"
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()

    def on_screen_resume(self) -> None:
        """Poll while shown: health checks cost CPU the runs being measured need."""
        self.action_refresh()
        if self._timer is None:
            self._timer = self.set_interval(self.wb.refresh_s, self.action_refresh)
        else:
            self._timer.resume()

    def on_screen_suspend(self) -> None:
        """Stop polling while another screen is shown."""
        if self._timer is not None:
            self._timer.pause()

    def highlighted(self) -> str | None:
        """The name of the highlighted stack."""
        table = self.query_one("#stacks-table", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].name

    def action_refresh(self) -> None:
        """Poll status (and the highlighted stack's log) in a thread."""
        self._poll(self.highlighted())

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self, log_name: str | None) -> None:
        try:
            rows = collect_rows(self.wb)
        except Exception as exc:  # a broken recipe must not take the screen down
            self.app.call_from_thread(self.notify, f"stack status: {exc}", severity="error")
            return
        lines: list[str] = []
        if log_name is None and rows:
            log_name = rows[0].name
        for r in rows:
            if r.name == log_name:
                lines = read_logs(self._log_files(r))
        self.post_message(self.Polled(rows, log_name, lines))

    def _log_files(self, row: StackRow) -> dict[str, Path]:
        if row.status is not None and row.status.logs:
            return {role: Path(p) for role, p in row.status.logs.items()}
        # A stopped stack keeps its logs in its run folder.

        folder = run_dir(row.name, self.wb.settings)
        return {p.stem: p for p in sorted(folder.glob("*.log"))} if folder.is_dir() else {}

    def on_stacks_screen_polled(self, message: Polled) -> None:
        """Redraw the table (keeping the cursor) and the log."""
        table = self.query_one("#stacks-table", DataTable)
        names = [r.name for r in message.rows]
        if names != [r.name for r in self.rows]:
            cursor = table.cursor_row
            table.clear()
            for r in message.rows:
                table.add_row(*r.cells(self.busy.get(r.name)), key=r.name)
            table.move_cursor(row=min(cursor, max(len(names) - 1, 0)))
        else:
            for r in message.rows:
                for (key, _), value in zip(COLUMNS, r.cells(self.busy.get(r.name)),
                                           strict=True):
                    table.update_cell(r.name, key, value)
        self.rows = message.rows
        log = self.query_one(LogTail)
        if message.log_name is None:
            log.show("Log", ["no stacks"])
        else:
            log.show(f"Log of {message.log_name}",
                     message.log_lines or [f"{message.log_name} has no logs yet"])

    @on(DataTable.RowHighlighted, "#stacks-table")
    def _follow(self) -> None:
        self.action_refresh()

    def action_up(self) -> None:
        """Start the highlighted stack (engine, then its RAG service)."""
        name = self.highlighted()
        if name is not None and name not in self.busy:
            self.busy[name] = "starting"
            self.notify(f"starting {name} …")
            self._launch(name, start=True)
            self.action_refresh()

    def action_down(self) -> None:
        """Stop the highlighted stack."""
        name = self.highlighted()
        if name is not None and name not in self.busy:
            self.busy[name] = "stopping"
            self._launch(name, start=False)
            self.action_refresh()

    @work(thread=True, group="launch")
    def _launch(self, name: str, start: bool) -> None:
        try:
            if start:
                running = up(get_stack(name, self.wb.settings.stacks_dir), self.wb.settings)
                note = f"{name} is up at {running.rag_url}"
            else:
                stopped = down([name], self.wb.settings)
                note = f"stopped {name}" if stopped else f"{name} was not running"
        except Exception as exc:  # launch errors carry the command and log lines
            self.app.call_from_thread(self.notify, f"{name}: {exc}", severity="error",
                                      timeout=15)
        else:
            self.app.call_from_thread(self.notify, note)
        finally:
            self.app.call_from_thread(self._launched, name)

    def _launched(self, name: str) -> None:
        self.busy.pop(name, None)
        self.action_refresh()
