"""Results screen: the scorecard is scorecard_for_run's, filters and sorting, the detail view."""

from __future__ import annotations

import pytest

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.report.stored import scorecard_for_run
from workbench.tui.screens.detail import DetailScreen
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.widgets.histogram import LatencyHistogram
from workbench.tui.widgets.questions import QuestionTable
from workbench.tui.widgets.scorecard import ScorecardTable, comparison_cells


async def test_scorecard_holds_the_report_numbers(workspace: Workspace) -> None:
    run_id = workspace.run_ids[1]
    app = workspace.app(run_id=run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        with workspace.store() as store:
            card = scorecard_for_run(store, run_id, semantic=False)
        table = screen.query_one(ScorecardTable)
        assert table.row_count == len(card.comparisons)
        for c in card.comparisons:
            shown = tuple(str(x) for x in table.get_row(c.key))
            assert shown == comparison_cells(c)
        f1 = card.comparison("f1")
        assert table.get_row("f1")[1] == f"{f1.a:.3f}" and table.get_row("f1")[2] == f"{f1.b:.3f}"
        assert card.verdict in str(screen.query_one("#verdict").render())
        hist_a = screen.query_one("#hist-a", LatencyHistogram)
        assert len(hist_a.values) == sum(r.status_a == "ok" for r in card.rows)
        assert screen.query_one(QuestionTable).row_count == len(card.rows) == 40


async def test_filter_keys_and_sort(workspace: Workspace) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        questions = app.screen.query_one(QuestionTable)
        rows = questions.questions
        for key, outcomes in (("w", {"B"}), ("l", {"A"}), ("t", {"tie"}),
                              ("e", {"error", "unpaired"})):
            await pilot.press(key)
            await pilot.pause()
            expected = [r.question_id for r in rows if r.outcome in outcomes]
            assert questions.row_count == len(expected)
            assert [k.value for k in questions.rows] == expected
        await pilot.press("a")
        await pilot.pause()
        assert questions.row_count == len(rows)
        # o cycles the sort column: # -> question -> F1 win -> F1 A ...; r reverses.
        for _ in range(3):
            await pilot.press("o")
        await pilot.pause()
        assert questions.sort_key == "f1_a"
        await pilot.press("r")
        await pilot.pause()
        shown = [questions.row_for(str(k.value)).scores_a.get("f1") or 0.0
                 for k in questions.rows]
        assert shown == sorted(shown, reverse=True)
        assert "sort: F1 A desc" in str(app.screen.query_one("#view-hint").render())


async def test_enter_opens_both_answers_with_gold(workspace: Workspace) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        questions = app.screen.query_one(QuestionTable)
        questions.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        row = questions.view[1][1]
        assert detail.row.question_id == row.question_id
        text_a = str(detail.query_one("#side-a .answer").render())
        text_b = str(detail.query_one("#side-b .answer").render())
        assert (row.answer_a or "")[:30] in text_a and (row.answer_b or "")[:30] in text_b
        head = str(detail.query_one("#detail-question").render())
        assert row.question in head and row.gold[0] in head
        gold_ids = detail.gold_ids
        retrieved = [s.doc_id for rec in detail.records.values() for s in rec.sources]
        if set(gold_ids) & set(retrieved):
            assert "★ GOLD" in text_a + text_b
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)


async def test_paging_adds_rows_as_the_cursor_moves(workspace: Workspace,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A small page so the 40-question run needs three of them.
    monkeypatch.setattr("workbench.tui.widgets.questions.PAGE", 16)
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(QuestionTable)
        assert table.row_count == 16
        table.focus()
        for _ in range(3):
            await pilot.press("pagedown")
        await pilot.pause()
        assert table.row_count == 40
