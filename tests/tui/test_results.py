"""Results screen: the choice first, the leaderboard, the candidate's comparisons, the
per-question table with filters and sorting, the detail of every stack; an old run opens."""

from __future__ import annotations

import pytest
from textual.widgets import ContentSwitcher

from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from workbench.report.choice import recommend
from workbench.report.constraints import constraints_from_manifest
from workbench.report.leaderboard import leaderboard
from workbench.report.stored import scorecard_for_run
from workbench.tui.data import stack_tags
from workbench.tui.screens.detail import DetailScreen
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.widgets.choice import choice_text
from workbench.tui.widgets.histogram import LatencyHistogram
from workbench.tui.widgets.leaderboard import LeaderboardTable, leaderboard_cells
from workbench.tui.widgets.questions import QuestionTable
from workbench.tui.widgets.scorecard import ScorecardTable, comparison_cells

STACKS = ["llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05"]


async def test_choice_leaderboard_and_comparisons(workspace: Workspace) -> None:
    run_id = workspace.run_ids[1]
    app = workspace.app(run_id=run_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        with workspace.store() as store:
            card = scorecard_for_run(store, run_id, semantic=False)
            choice = recommend(card, constraints_from_manifest(
                store.get_run(run_id)["manifest"]))
        assert card.stacks == STACKS and choice.chosen == "llamacpp-cpu-qwen05"
        shown = str(screen.query_one("#choice-text").render())
        assert shown == choice_text(choice).plain
        # "Choose X: its reason", then one reason per other stack (120 columns: in full).
        assert shown.startswith("Choose llamacpp-cpu-qwen05: F1 ")
        assert all(r.reason.removeprefix("choose ") in shown for r in choice.ranked)
        assert screen.query_one("#choice").border_subtitle == \
            "constraints: e2e.p50<=2s, f1>=0.2"
        board = screen.query_one(LeaderboardTable)
        tags = stack_tags(card)
        assert tags == {"llamacpp-cpu": "1", "vllm-cpu": "2", "llamacpp-cpu-qwen05": "3"}
        assert [k.value for k in board.rows] == [r.stack for r in choice.ranked]
        for key, cells in zip(board.rows, leaderboard_cells(leaderboard(card, choice), tags),
                              strict=True):
            assert [str(x) for x in board.get_row(key)] == [str(x) for x in cells]
        assert str(board.get_row("llamacpp-cpu")[3]) == "base"
        f1 = card.comparison("f1", "llamacpp-cpu-qwen05")
        assert str(board.get_row("llamacpp-cpu-qwen05")[3]) == f"{f1.diff:+.3f} ✓"
        # v: the comparisons of the first candidate; n: the next candidate's.
        await pilot.press("v")
        await pilot.pause()
        assert screen.query_one("#results-bottom", ContentSwitcher).current == "scorecard"
        table = screen.query_one(ScorecardTable)
        for cand in card.candidates:
            comps = card.comparisons_of(cand)
            assert table.row_count == len(comps)
            for c in comps:
                assert tuple(str(x) for x in table.get_row(c.key)) == comparison_cells(c)
            await pilot.press("n")
            await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        hists = list(screen.query(LatencyHistogram))
        assert [h.border_title for h in hists] == [f"E2E latency {i}: {s}"
                                                   for i, s in enumerate(STACKS, start=1)]
        for hist, stack in zip(hists, STACKS, strict=True):
            assert len(hist.values) == sum(r.status[stack] == "ok" for r in card.rows)
        assert screen.query_one(QuestionTable).row_count == len(card.rows) == 40


async def test_filter_keys_candidates_and_sort(workspace: Workspace) -> None:
    app = workspace.app(run_id=workspace.run_ids[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        questions = app.screen.query_one(QuestionTable)
        rows = questions.questions
        base = "llamacpp-cpu"
        for cand in ("vllm-cpu", "llamacpp-cpu-qwen05"):
            assert questions.candidate == cand
            for key, outcomes in (("w", {cand}), ("l", {base}), ("t", {"tie"}),
                                  ("e", {"error", "unpaired"})):
                await pilot.press(key)
                await pilot.pause()
                expected = [r.question_id for r in rows if r.outcome[cand] in outcomes]
                assert [k.value for k in questions.rows] == expected
            await pilot.press("a", "n")
            await pilot.pause()
        assert questions.row_count == len(rows)
        # o cycles the sort column: # -> question -> F1 win -> F1 1 ...; r reverses.
        for _ in range(3):
            await pilot.press("o")
        await pilot.pause()
        assert questions.sort_key == "f1:llamacpp-cpu"
        await pilot.press("r")
        await pilot.pause()
        shown = [(questions.row_for(str(k.value)).scores["llamacpp-cpu"].get("f1") or 0.0)
                 for k in questions.rows]
        assert shown == sorted(shown, reverse=True)
        assert "sort: F1 1 desc" in str(app.screen.query_one("#view-hint").render())


async def test_enter_opens_every_stack_with_gold(workspace: Workspace) -> None:
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
        texts = [str(detail.query_one(f"#stack-{i} .answer").render()) for i in range(3)]
        for text, stack in zip(texts, STACKS, strict=True):
            assert text.startswith(stack) and (row.answers[stack] or "")[:30] in text
        assert "baseline" in texts[0] and "vs baseline: F1 winner" in texts[1]
        head = str(detail.query_one("#detail-question").render())
        assert row.question in head and row.gold[0] in head
        retrieved = [s.doc_id for rec in detail.records.values() for s in rec.sources]
        if set(detail.gold_ids) & set(retrieved):
            assert "★ GOLD" in "".join(texts)
        await pilot.press("right")
        await pilot.pause()
        assert detail.query_one("#stack-1").has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)


async def test_a_run_stored_before_named_stacks_opens(workspace: Workspace) -> None:
    app = workspace.app(run_id=workspace.run_ids[2])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResultsScreen) and screen.loaded is not None
        board = screen.query_one(LeaderboardTable)
        names = {str(board.get_row(k)[1]) for k in board.rows}
        assert names == {"A: llamacpp-cpu", "B: vllm-cpu"}
        assert screen.query_one(QuestionTable).row_count == 20
        assert "E2E A" in [str(c.label) for c in screen.query_one(QuestionTable).columns.values()]


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
        for _ in range(5):
            await pilot.press("pagedown")
        await pilot.pause()
        assert table.row_count == 40
