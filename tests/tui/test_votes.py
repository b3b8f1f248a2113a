"""Results screen, votes panel: each stack's arena rating beside its F1, at 80x24."""

from __future__ import annotations

from textual.widgets import ContentSwitcher, DataTable

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from tests.tui.live_helpers import add_votes
from workbench.report.stored import scorecard_for_run
from workbench.report.votes import votes_for_run, votes_table_rows
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.widgets.votes import VotesPanel


async def test_votes_sit_beside_f1(workspace: Workspace) -> None:
    run_id = workspace.run_ids[1]  # the three-stack run
    with workspace.store() as store:
        add_votes(store, run_id)
        card = scorecard_for_run(store, run_id, semantic=False)
        expected = votes_table_rows(votes_for_run(store, run_id, card), card)
    app = workspace.app(run_id=run_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        await pilot.press("v", "v", "v")
        await pilot.pause()
        assert screen.query_one("#results-bottom", ContentSwitcher).current == "votes"
        panel = screen.query_one(VotesPanel)
        table = panel.query_one(DataTable)
        assert app.focused is table
        rows = [tuple(str(c) for c in table.get_row(k)) for k in table.rows]
        assert rows == expected and rows[0][0] == "llamacpp-cpu-qwen05"
        assert [str(c.label) for c in table.columns.values()] == \
            ["Stack", "F1", "Vote rating [95% CI]", "W-T-L", "Votes"]
        text = str(panel.query_one("#votes-text").render())
        assert text.startswith("60 arena votes between this run's stacks (30 blind; 60 on "
                               "this run's questions); rated: the 30 blind votes on this "
                               "run's questions")
        assert "Votes agree with token F1 on" in text and "No LLM judge scores" in text
        assert panel.border_title == "Human votes · 60 arena votes between these stacks"


async def test_no_votes_says_where_they_come_from(workspace: Workspace) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v", "v", "v")
        await pilot.pause()
        panel = app.screen.query_one(VotesPanel)
        assert not panel.query_one(DataTable).display
        assert "No arena votes between this run's stacks yet" in \
            str(panel.query_one("#votes-text").render())
        assert app.focused is panel
