"""Results: the scorecard, E2E histograms per side, and the per-question table.

The card is computed (or read from the store's cache) in a thread worker through
`scorecard_for_run`, so opening a 5,000-question run never freezes the screen.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from workbench.tui.data import LoadedCard, e2e_by_side, gold_doc_ids, latest_records, load_card
from workbench.tui.screens.detail import DetailScreen
from workbench.tui.widgets.histogram import LatencyHistogram
from workbench.tui.widgets.key_footer import KeyFooter
from workbench.tui.widgets.questions import COLUMNS, Filter, QuestionTable
from workbench.tui.widgets.scorecard import ScorecardTable

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


class ResultsScreen(Screen[None]):
    """The current run's scorecard (app.run_id)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "filter('all')", "All"),
        Binding("w", "filter('wins')", "B wins"),
        Binding("l", "filter('losses')", "B losses"),
        Binding("t", "filter('ties')", "Ties"),
        Binding("e", "filter('errors')", "Errors"),
        Binding("o", "next_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("ctrl+r", "rescore", "Rescore", show=False),
    ]

    class CardLoaded(Message):
        """The worker has the card of `run_id`."""

        def __init__(self, run_id: str, loaded: LoadedCard) -> None:
            self.run_id = run_id
            self.loaded = loaded
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.loaded_run: str | None = None
        self.loaded: LoadedCard | None = None
        #: Seconds from asking for the card to the filled screen (the bench reads it).
        self.open_seconds: float | None = None
        self._asked_at = 0.0

    @property
    def wb(self) -> WorkbenchApp:
        """The app, typed."""
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        """Verdict, scorecard beside latency, view line, questions."""
        yield Header()
        yield Static("no run selected: pick one in History (4)", id="verdict",
                     classes="verdict")
        with Horizontal(id="results-top"):
            yield ScorecardTable(id="scorecard")
            with VerticalScroll(id="latency"):
                yield LatencyHistogram("E2E latency A", id="hist-a")
                yield LatencyHistogram("E2E latency B", id="hist-b")
        yield Static("", id="view-hint", classes="hint")
        yield QuestionTable(id="questions")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Start on the question table (the thing the keys act on)."""
        self.query_one(QuestionTable).focus()

    def on_screen_resume(self) -> None:
        """Load the app's current run when it changed while away."""
        if self.wb.run_id is not None and self.wb.run_id != self.loaded_run:
            self.load(self.wb.run_id)

    def load(self, run_id: str, *, rescore: bool = False) -> None:
        """Ask the worker for `run_id`'s card."""
        self.loaded_run = run_id
        self._asked_at = time.perf_counter()
        self.query_one("#verdict", Static).update(f"scoring run {run_id} …")
        self._score(run_id, rescore)

    @work(thread=True, exclusive=True, group="score")
    def _score(self, run_id: str, rescore: bool) -> None:
        try:
            if rescore:
                from workbench.report.stored import scorecard_for_run
                from workbench.store.db import Store

                with Store(self.wb.db_path) as store:
                    scorecard_for_run(store, run_id, semantic=self.wb.semantic,
                                      use_cache=False)
            loaded = load_card(self.wb.db_path, run_id, semantic=self.wb.semantic)
        except Exception as exc:  # any failure must reach the user, not kill the app
            self.app.call_from_thread(
                self.notify, f"cannot score run {run_id}: {exc}", severity="error")
            return
        self.post_message(self.CardLoaded(run_id, loaded))

    def on_results_screen_card_loaded(self, message: CardLoaded) -> None:
        """Fill every widget from the card."""
        if message.run_id != self.loaded_run:
            return  # a newer request is on its way
        self.loaded = message.loaded
        card = message.loaded.card
        side = card.sides
        head = (f"Run {message.run_id}: A {card.stacks.get('A', '?')} vs "
                f"B {card.stacks.get('B', '?')}, {card.n_pairs} pairs"
                + (f", {len(card.warnings)} warning(s)" if card.warnings else ""))
        errors = "  ".join(f"{s}: {v.errors} failed" for s, v in side.items())
        self.query_one("#verdict", Static).update(f"{head}; {errors}\n{card.verdict}")
        self.query_one(ScorecardTable).show(card)
        values = e2e_by_side(card)
        every = values["A"] + values["B"]
        bounds = (min(every), max(every)) if every else (0.0, 1.0)
        for key, hist_id in (("A", "#hist-a"), ("B", "#hist-b")):
            hist = self.query_one(hist_id, LatencyHistogram)
            hist.bounds = bounds
            hist.values = tuple(values[key])
        self.query_one(QuestionTable).load(card.rows)
        self.open_seconds = time.perf_counter() - self._asked_at

    @on(QuestionTable.ViewChanged)
    def _view_changed(self, event: QuestionTable.ViewChanged) -> None:
        table = self.query_one(QuestionTable)
        label = COLUMNS[table.sort_key][0]
        order = "desc" if table.sort_reverse else "asc"
        self.query_one("#view-hint", Static).update(
            f"{event.shown} of {event.total} questions · filter: {table.filter} · "
            f"sort: {label} {order} · Enter: both answers"
        )

    def action_filter(self, name: Filter) -> None:
        """Keep only B's wins / losses / ties / errors (or all)."""
        self.query_one(QuestionTable).filter = name

    def action_next_sort(self) -> None:
        """Sort by the next column."""
        table = self.query_one(QuestionTable)
        keys = list(COLUMNS)
        table.sort_reverse = False
        table.sort_key = keys[(keys.index(table.sort_key) + 1) % len(keys)]

    def action_reverse_sort(self) -> None:
        """Reverse the order."""
        table = self.query_one(QuestionTable)
        table.sort_reverse = not table.sort_reverse

    def action_rescore(self) -> None:
        """Score again, ignoring the cached card."""
        if self.loaded_run:
            self.load(self.loaded_run, rescore=True)

    @on(DataTable.RowSelected, "#questions")
    def _open_detail(self, event: DataTable.RowSelected) -> None:
        if self.loaded_run is None or event.row_key.value is None:
            return
        table = self.query_one(QuestionTable)
        row = table.row_for(event.row_key.value)
        store = self.wb.store
        records = latest_records(store, self.loaded_run, row.question_id)
        gold = gold_doc_ids(store, self.loaded_run, row.question_id)
        stacks = self.loaded.card.stacks if self.loaded else {}
        self.app.push_screen(DetailScreen(row, records, gold, stacks))
