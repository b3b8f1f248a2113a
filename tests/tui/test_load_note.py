"""The TUI's recommendation says the load it was made at: a run without a load block was
compared one request at a time."""

from __future__ import annotations

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.widgets.choice import ChoicePanel


async def test_the_recommendation_says_the_load_it_was_made_at(workspace: Workspace) -> None:
    run_id = workspace.run_ids[1]
    app = workspace.app(run_id=run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        title = str(app.screen.query_one(ChoicePanel).border_title)
        assert title.startswith(f"Recommendation · run {run_id} · at concurrency 1"), title
