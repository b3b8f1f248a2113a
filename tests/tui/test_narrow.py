"""The per-question table at 80 columns with three stacks: no column past the edge, no
value cut; the baseline and the candidate are shown, `n` brings each other stack in."""

from __future__ import annotations

import pytest

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.report.leaderboard import seconds_text
from workbench.tui.widgets.questions import QuestionTable


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_every_stack_fits_and_shows_whole_values(workspace: Workspace,
                                                       size: tuple[int, int]) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one(QuestionTable)
        seen: set[str] = set()
        for _ in table.stacks:
            # Every column (padded) fits beside the scrollbar, inside the border.
            used = sum(c.get_render_width(table) for c in table.columns.values())
            assert used + 2 <= table.size.width, (size, used)
            shown = table.shown_stacks
            assert table.baseline in shown and table.candidate in shown
            first = table.view[0][1]
            cells = [str(c) for c in table.get_row_at(0)]
            for stack in shown:
                e2e = first.e2e.get(stack)
                text = "-" if e2e is None else seconds_text(e2e)
                assert text in cells, (stack, cells)
                assert len(text) <= table.columns[f"e2e:{stack}"].width  # type: ignore[index]
            if len(shown) < len(table.stacks):
                assert f"of {len(table.stacks)} stacks" in str(table.border_title)
            seen |= set(shown)
            await pilot.press("n")
            await pilot.pause()
        assert seen == set(table.stacks)
        if size[0] >= 100:  # three stacks fit from 100 columns on
            assert table.shown_stacks == table.stacks
