"""Results: the recommendation first, the leaderboard, then (v switches) the per-question
table, one candidate's comparisons against the baseline, E2E histograms per stack, or the
arena's votes beside F1. A run that has not completed shows its stacks' progress and
failures above the recommendation, polled from the store, and is rescored when it ends.

The card and its choice are computed (or the card read from the store's cache) in a
thread worker through `scorecard_for_run` and `recommend`, so opening a 5,000-question run
never freezes the screen.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Header, Static

from workbench.store.db import Store
from workbench.tui.data import (
    LoadedCard,
    e2e_by_stack,
    load_card,
    load_run_state,
    stack_tags,
    state_tags,
)
from workbench.tui.screens.detail import DetailScreen
from workbench.tui.widgets.choice import ChoicePanel
from workbench.tui.widgets.histogram import LatencyHistogram
from workbench.tui.widgets.key_footer import KeyFooter
from workbench.tui.widgets.leaderboard import LeaderboardTable
from workbench.tui.widgets.live_run import LiveRunPanel
from workbench.tui.widgets.questions import Filter, QuestionTable
from workbench.tui.widgets.scorecard import ScorecardTable
from workbench.tui.widgets.votes import VotesPanel

if TYPE_CHECKING:
    from textual.timer import Timer

    from workbench.report.models import ScoreCard
    from workbench.store.progress import RunState
    from workbench.tui.app import WorkbenchApp

#: While a run is in progress its card is scored again at most this often (s), as answers
#: arrive: scoring a large run takes seconds, and the progress panel updates meanwhile.
RESCORE_EVERY_S = 10.0
#: The bottom panels, in the order v cycles through them: id -> what it shows.
PANELS = {"questions": "questions", "scorecard": "comparisons", "latency": "latency",
          "votes": "votes"}


class ResultsScreen(Screen[None]):
    """The current run's recommendation and scorecard (app.run_id)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "next_panel", "View"),
        Binding("n", "next_candidate", "Candidate"),
        # The filters and reverse are named in the hint line, not the footer: at 80 columns
        # the footer has room for the keys that change what is shown.
        Binding("a", "filter('all')", "All", show=False),
        Binding("w", "filter('wins')", "Wins"),
        Binding("l", "filter('losses')", "Losses", show=False),
        Binding("t", "filter('ties')", "Ties", show=False),
        Binding("e", "filter('errors')", "Errors", show=False),
        Binding("o", "next_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse", show=False),
        Binding("ctrl+r", "rescore", "Rescore", show=False),
    ]

    class CardLoaded(Message):
        """The worker has the card of `run_id`."""

        def __init__(self, run_id: str, loaded: LoadedCard) -> None:
            self.run_id = run_id
            self.loaded = loaded
            super().__init__()

    class StateRead(Message):
        """The poll read `run_id`'s stored progress (`card_failed`: it cannot be scored)."""

        def __init__(self, run_id: str, state: RunState, card_failed: str = "") -> None:
            self.run_id = run_id
            self.state = state
            self.card_failed = card_failed
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.loaded_run: str | None = None
        self.loaded: LoadedCard | None = None
        #: The shown run's latest stored progress.
        self.state: RunState | None = None
        self._poll: Timer | None = None
        #: Seconds from asking for the card to the filled screen (the bench reads it).
        self.open_seconds: float | None = None
        self._asked_at = 0.0

    @property
    def wb(self) -> WorkbenchApp:
        """The app, typed."""
        return cast("WorkbenchApp", self.app)

    def compose(self) -> ComposeResult:
        """Choice, leaderboard, then one of questions / comparisons / latency."""
        yield Header()
        yield LiveRunPanel(id="live")
        yield ChoicePanel(id="choice")
        yield LeaderboardTable(id="leaderboard")
        with ContentSwitcher(initial="questions", id="results-bottom"):
            yield QuestionTable(id="questions")
            yield ScorecardTable(id="scorecard")
            yield VerticalScroll(id="latency")
            yield VotesPanel(id="votes")
        yield Static("", id="view-hint", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Start on the question table (the thing the keys act on)."""
        self.query_one(LiveRunPanel).display = False
        self.query_one(QuestionTable).focus()

    def on_screen_resume(self) -> None:
        """Load the app's current run when it changed while away."""
        if self.wb.run_id is not None and self.wb.run_id != self.loaded_run:
            self.load(self.wb.run_id)

    def load(self, run_id: str, *, rescore: bool = False) -> None:
        """Ask the worker for `run_id`'s card (the same run in progress: its progress
        panel and polling stay while it is scored again)."""
        again = run_id == self.loaded_run and self.state is not None \
            and self.state.status == "running"
        self.loaded_run = run_id
        self._asked_at = time.perf_counter()
        if not again:
            self.state = None
            self._stop_polling()
            self.query_one(LiveRunPanel).display = False
            self.query_one(ChoicePanel).message(f"scoring run {run_id} …")
        self._score(run_id, rescore)

    @work(thread=True, exclusive=True, group="score")
    def _score(self, run_id: str, rescore: bool) -> None:
        try:
            if rescore:
                # why here: report.stored imports scipy (SciPy takes seconds to import)
                from workbench.report.stored import scorecard_for_run

                with Store(self.wb.db_path) as store:
                    scorecard_for_run(store, run_id, semantic=self.wb.semantic,
                                      use_cache=False)
            loaded = load_card(self.wb.db_path, run_id, semantic=self.wb.semantic)
        except Exception as exc:  # any failure must reach the user, not kill the app
            try:
                state = load_run_state(self.wb.db_path, run_id)
            except Exception:  # the scoring error is the one to show
                state = None
            if state is not None and state.status != "completed":
                # A run in progress may have too few answers to score: show its progress.
                self.post_message(self.StateRead(run_id, state, card_failed=str(exc)))
                return
            self.app.call_from_thread(
                self.notify, f"cannot score run {run_id}: {exc}", severity="error")
            return
        self.post_message(self.CardLoaded(run_id, loaded))

    async def on_results_screen_card_loaded(self, message: CardLoaded) -> None:
        """Fill every widget from the card and its choice."""
        if message.run_id != self.loaded_run:
            return  # a newer request is on its way
        self.loaded = message.loaded
        card, choice = message.loaded.card, message.loaded.choice
        tags = stack_tags(card)
        state = message.loaded.state
        # The load the choice was made at: one request at a time, or the matrix's load pass.
        at_load = (" · at concurrency 1" if card.load is None
                   else f" · under load, target {card.load.target_text or 'none'}")
        title = f"Recommendation · run {message.run_id}" + at_load + (
            f" · {len(card.warnings)} warning(s)" if card.warnings else "")
        # why here: report.provisional imports scipy (SciPy takes seconds to import)
        from workbench.report.provisional import PROVISIONAL_NOTE, is_complete

        complete = is_complete(state.status) and choice is not None
        if complete and choice is not None:
            self.query_one(ChoicePanel).show(choice, title)
            self.query_one(LeaderboardTable).show(card, choice, tags)
        else:
            # No choice, no "better" or "faster" mid-run: looking at the tests as answers
            # arrive inflates false winners (report.provisional). Own numbers only.
            panel = self.query_one(ChoicePanel)
            panel.message(f"{PROVISIONAL_NOTE}.\n{state.answered} of {state.planned} answers "
                          "so far; the recommendation appears when the run completes.")
            panel.border_title = (f"Provisional · run {message.run_id} · {state.answered} "
                                  f"of {state.planned} answers")
            panel.border_subtitle = ""
            self.query_one(LeaderboardTable).show_provisional(card)
        self.query_one(QuestionTable).load(card.rows, card.stacks, card.baseline, tags)
        scorecard = self.query_one(ScorecardTable)
        if complete:
            scorecard.show(card, self.query_one(QuestionTable).candidate)
        else:
            scorecard.clear(columns=True)
            scorecard.border_title = "Comparisons appear when the run is complete"
        self.query_one(VotesPanel).show(message.loaded.votes, card)
        self._show_state(message.loaded.state, tags)
        await self._fill_latency(card, tags)
        self.open_seconds = time.perf_counter() - self._asked_at

    # --- a run in progress ----------------------------------------------------------------
    def _show_state(self, state: RunState, tags: dict[str, str]) -> None:
        """Show (and keep polling) the progress of a run that has not completed."""
        self.state = state
        panel = self.query_one(LiveRunPanel)
        panel.display = state.status != "completed"
        # While it runs, progress and the leaderboard come first: the provisional
        # recommendation shrinks to its headline (it scrolls, z zooms it).
        self.set_class(state.status != "completed", "-live")
        if state.status == "completed":
            self._stop_polling()
            return
        panel.show(state, tags)
        if self._poll is None and state.status == "running":
            self._poll = self.set_interval(self.wb.refresh_s, self.poll_state)

    def _stop_polling(self) -> None:
        if self._poll is not None:
            self._poll.stop()
            self._poll = None

    def poll_state(self) -> None:
        """Read the shown run's progress again (in a thread worker)."""
        if self.loaded_run is not None:
            self._read_state(self.loaded_run)

    @work(thread=True, exclusive=True, group="poll")
    def _read_state(self, run_id: str) -> None:
        try:
            state = load_run_state(self.wb.db_path, run_id)
        except Exception as exc:  # a locked or vanished database: say so once, keep going
            self.app.call_from_thread(self.notify, f"run {run_id}: {exc}", severity="error")
            return
        self.post_message(self.StateRead(run_id, state))

    def on_results_screen_state_read(self, message: StateRead) -> None:
        """Redraw the progress; once the run has ended, score it again."""
        if message.run_id != self.loaded_run:
            return
        before = self.state
        tags = stack_tags(self.loaded.card) if self.loaded is not None \
            and self.loaded.card.run_id == message.run_id else state_tags(message.state)
        if message.card_failed:
            self.query_one(ChoicePanel).message(
                f"run {message.run_id} is {message.state.status}: not scored yet "
                f"({message.card_failed})")
        self._show_state(message.state, tags)
        ended = message.state.status != "running"
        if before is not None and before.status == "running" and ended:
            self.load(message.run_id)
        elif not ended and not message.card_failed and before is not None \
                and message.state.answered > before.answered \
                and time.perf_counter() - self._asked_at >= RESCORE_EVERY_S:
            self.load(message.run_id)

    async def _fill_latency(self, card: ScoreCard, tags: dict[str, str]) -> None:
        # Awaited: the old histograms (same ids) are gone before the new ones mount.
        panel = self.query_one("#latency", VerticalScroll)
        await panel.remove_children()
        values = e2e_by_stack(card)
        every = [v for vs in values.values() for v in vs]
        bounds = (min(every), max(every)) if every else (0.0, 1.0)
        for i, stack in enumerate(card.stacks):
            hist = LatencyHistogram(f"E2E latency {tags[stack]}: {stack}", id=f"hist-{i}")
            await panel.mount(hist)
            hist.bounds = bounds
            hist.values = tuple(values[stack])

    def _hint(self) -> None:
        table = self.query_one(QuestionTable)
        panel = self.query_one("#results-bottom", ContentSwitcher).current or "questions"
        if not table.stacks:
            return
        cand, base = table.candidate, table.baseline
        if panel == "questions":
            order = "desc" if table.sort_reverse else "asc"
            text = (f"{len(table.view)} of {len(table.questions)} questions · "
                    f"{table.tags[cand]}: {cand} vs {table.tags[base]}: {base} · filter: "
                    f"{table.filter} (a w l t e) · sort: "
                    f"{table.header(table.sort_key)} {order} (o r) · Enter: answers")
        elif panel == "scorecard":
            text = f"{cand} vs {base} · n: next candidate · v: next view"
        elif panel == "votes":
            text = "arena votes between this run's stacks, rating beside F1 · v: next view"
        else:
            text = "E2E of successful requests per stack, on one shared axis · v: next view"
        self.query_one("#view-hint", Static).update(text)

    @on(QuestionTable.ViewChanged)
    def _view_changed(self, event: QuestionTable.ViewChanged) -> None:
        self._hint()

    def action_next_panel(self) -> None:
        """Show the next bottom panel: questions -> comparisons -> latency."""
        switcher = self.query_one("#results-bottom", ContentSwitcher)
        keys = list(PANELS)
        current = switcher.current or keys[0]
        switcher.current = keys[(keys.index(current) + 1) % len(keys)]
        widget = self.query_one(f"#{switcher.current}")
        if isinstance(widget, VotesPanel) and widget.query_one(DataTable).display:
            widget.query_one(DataTable).focus()
        else:
            widget.focus()
        self._hint()

    def action_next_candidate(self) -> None:
        """Compare the next candidate with the baseline (table outcomes and comparisons)."""
        if self.loaded is None:
            return
        card = self.loaded.card
        table = self.query_one(QuestionTable)
        cands = card.candidates
        nxt = cands[(cands.index(table.candidate) + 1) % len(cands)]
        table.set_candidate(nxt)
        if self.state is None or self.state.status == "completed":
            self.query_one(ScorecardTable).show(card, nxt)
        self._hint()

    def action_filter(self, name: Filter) -> None:
        """Keep only the candidate's wins / losses / ties / errors (or all)."""
        self.query_one(QuestionTable).filter = name

    def action_next_sort(self) -> None:
        """Sort by the next column."""
        table = self.query_one(QuestionTable)
        keys = list(table.columns_spec())
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
        if self.loaded_run is None or self.loaded is None or event.row_key.value is None:
            return
        table = self.query_one(QuestionTable)
        row = table.row_for(event.row_key.value)
        store = self.wb.store
        records = store.latest_by_stack(self.loaded_run, row.question_id)
        question = store.question(self.loaded_run, row.question_id)
        gold = question.gold_doc_ids if question else []
        self.app.push_screen(DetailScreen(row, records, gold, self.loaded.card))
