"""History: past runs with their stacks, the highlighted run's manifest, and two marked
runs' stacks compared."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Header, Static

from workbench.report.host import cross_host_note, host_label
from workbench.store import Store
from workbench.tui.data import load_card
from workbench.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from workbench.report.models import ScoreCard
    from workbench.tui.app import WorkbenchApp

#: Per-stack numbers when two runs are compared: (header, where in a StackSummary, unit).
STACK_METRICS = (("F1", "quality", "f1", ""), ("EM", "quality", "exact_match", ""),
                 ("hit@5", "retrieval", "hit@5", ""), ("MRR", "retrieval", "mrr", ""),
                 ("E2E p50", "latency", "p50", "s"), ("E2E p95", "latency", "p95", "s"))
COMPARE_COLUMNS = ("Run", "Stack", *[m[0] for m in STACK_METRICS], "Errors")
RUN_COLUMNS = (("mark", " "), ("id", "Run"), ("stacks", "Stacks (* baseline)"),
               ("host", "Host"), ("status", "Status"), ("evalset", "Eval set"),
               ("created", "Created (UTC)"), ("questions", "Qs"), ("responses", "Resp"),
               ("errors", "Err"))


def stacks_text(stacks: list[str], baseline: str) -> str:
    """A run's stacks, the baseline first and starred, the others in run order."""
    others = [s for s in stacks if s != baseline]
    return ", ".join([f"{baseline}*", *others]) if baseline else ", ".join(stacks)


def compare_rows(first: ScoreCard, second: ScoreCard) -> list[tuple[str, ...]]:
    """One row per (run, stack): its own F1, exact match, hit@5, MRR, E2E p50/p95, errors."""
    # why here: report.verdict imports scipy (SciPy takes seconds to import)
    from workbench.report.verdict import format_value

    rows: list[tuple[str, ...]] = []
    for i, card in enumerate((first, second), start=1):
        for stack in card.stacks:
            s = card.summaries[stack]
            cells = []
            for _, group, key, unit in STACK_METRICS:
                if group == "latency":
                    lat = s.latency.get("e2e")
                    value = None if lat is None else getattr(lat, key)
                else:
                    value = (s.quality if group == "quality" else s.retrieval).get(key)
                cells.append(format_value(value, unit))
            errors = "n/a" if s.error_rate is None else f"{s.error_rate:.1%}"
            name = stack + ("*" if stack == card.baseline else "")
            rows.append((f"run {i}", name, *cells, errors))
    return rows


class HistoryScreen(Screen[None]):
    """Every stored run, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open results"),
        Binding("m", "mark", "Mark"),
        Binding("c", "compare", "Compare 2"),
        Binding("j", "show_manifest", "Manifest"),
        Binding("f5", "reload", "Reload"),
    ]

    class Compared(Message):
        """The worker scored both marked runs."""

        def __init__(self, ids: tuple[str, str], cards: tuple[ScoreCard, ScoreCard],
                     host_note: str | None = None) -> None:
            self.ids = ids
            self.cards = cards
            #: Set when the two runs ran on different hosts (report.host).
            self.host_note = host_note
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.marked: list[str] = []
        #: The shown manifest as pretty JSON.
        self.manifest_text = ""

    @property
    def wb(self) -> WorkbenchApp:
        """The app, typed."""
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        """Runs on top; the manifest or the comparison below."""
        yield Header()
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("m: mark two runs, c: compare them, Enter: open results", classes="hint",
                     id="history-hint")
        with ContentSwitcher(initial="manifest-pane", id="history-bottom"):
            with VerticalScroll(id="manifest-pane"):
                yield Static("", id="manifest")
            yield DataTable(id="compare-table", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns, then the runs."""
        table = self.query_one("#runs-table", DataTable)
        table.border_title = "Runs"
        for key, label in RUN_COLUMNS:
            table.add_column(label, key=key)
        compare = self.query_one("#compare-table", DataTable)
        for label in COMPARE_COLUMNS:
            compare.add_column(label)
        table.focus()

    def on_screen_resume(self) -> None:
        """A run may have been added while away."""
        self.action_reload()

    def action_reload(self) -> None:
        """Read the runs again."""
        self.runs = self.wb.store.list_runs(limit=500)
        table = self.query_one("#runs-table", DataTable)
        table.clear()
        for r in self.runs:
            table.add_row("●" if r["id"] in self.marked else "", r["id"],
                          stacks_text(r["stacks"], r["baseline"]),
                          # The fingerprint alone (narrow terminals); `j` shows the CPU.
                          host_label(r.get("host"), r.get("host_cpu"), width=0),
                          r["status"], r["evalset"],
                          str(r["created_utc"])[:19].replace("T", " "), str(r["questions"]),
                          str(r["responses"]), str(r["errors"]), key=r["id"])
        table.border_title = f"Runs ({len(self.runs)}) in {self.wb.db_path.name}"

    def _current(self) -> str | None:
        table = self.query_one("#runs-table", DataTable)
        if not self.runs or table.cursor_row >= len(self.runs):
            return None
        return str(self.runs[table.cursor_row]["id"])

    @on(DataTable.RowSelected, "#runs-table")
    def _selected(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted, "#runs-table")
    def _highlighted(self) -> None:
        self.action_show_manifest()

    def action_show_manifest(self) -> None:
        """Show the highlighted run's manifest as pretty JSON."""
        run_id = self._current()
        if run_id is None:
            return
        manifest = self.wb.store.get_run(run_id)["manifest"]
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)
        self.manifest_text = text
        self.query_one("#manifest", Static).update(
            Syntax(text, "json", theme="ansi_dark", word_wrap=True))
        self.query_one("#history-bottom", ContentSwitcher).current = "manifest-pane"
        self.query_one("#history-bottom").border_title = f"Manifest of {run_id}"

    def action_open(self) -> None:
        """Open the highlighted run in Results."""
        run_id = self._current()
        if run_id is not None:
            self.wb.show_results(run_id)

    def action_mark(self) -> None:
        """Mark (or unmark) the highlighted run; the two latest marks are compared."""
        run_id = self._current()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked = [*self.marked, run_id][-2:]
        table = self.query_one("#runs-table", DataTable)
        for r in self.runs:
            table.update_cell(r["id"], "mark", "●" if r["id"] in self.marked else "")

    def action_compare(self) -> None:
        """Score both marked runs (cached cards are instant) and show them side by side."""
        if len(self.marked) != 2:
            self.notify("mark two runs with m first", severity="warning")
            return
        self.query_one("#history-hint", Static).update(
            f"comparing {self.marked[0]} and {self.marked[1]} …")
        self._compare(self.marked[0], self.marked[1])

    @work(thread=True, exclusive=True, group="compare")
    def _compare(self, first: str, second: str) -> None:
        try:
            cards = tuple(load_card(self.wb.db_path, r, semantic=self.wb.semantic).card
                          for r in (first, second))
            with Store(self.wb.db_path) as store:  # this thread's own connection
                note = cross_host_note(*(store.run_manifest(r) for r in (first, second)))
        except Exception as exc:  # shown to the user; the app stays up
            self.app.call_from_thread(self.notify, f"cannot compare: {exc}", severity="error")
            return
        self.post_message(self.Compared((first, second), (cards[0], cards[1]), note))

    def on_history_screen_compared(self, message: Compared) -> None:
        """Fill the comparison table."""
        table = self.query_one("#compare-table", DataTable)
        table.clear()
        for row in compare_rows(*message.cards):
            table.add_row(*row)
        bottom = self.query_one("#history-bottom", ContentSwitcher)
        bottom.current = "compare-table"
        bottom.border_title = (f"run 1 = {message.ids[0]}, run 2 = {message.ids[1]} "
                               "(* baseline)")
        # Verdicts are sentences: they go on the hint line, not in a narrow column.
        # The hint is one line: the hosts go on the comparison's bottom border instead.
        bottom.border_subtitle = f"hosts: {message.host_note}" if message.host_note else ""
        self.query_one("#history-hint", Static).update(
            f"run 1: {message.cards[0].verdict}\nrun 2: {message.cards[1].verdict}")
