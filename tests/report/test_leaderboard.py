"""One leaderboard row per stack for every view: the CLI (rich), the Markdown report, the
web page and the TUI show the same rank with its tie mark, the same cost text and, for a
run with a load pass, the same capacity; a run without one says it was chosen at
concurrency 1 in each of them."""

from __future__ import annotations

import pytest
from rich.console import Console
from textual.app import App, ComposeResult

from tests.report.load_cards import A, B, make_card, with_load
from workbench.report.choice import Choice, recommend
from workbench.report.leaderboard import (
    TIE_MARK,
    amount_text,
    leaderboard,
    seconds_text,
)
from workbench.report.models import Cost, ScoreCard
from workbench.report.render import render_markdown, render_rich
from workbench.web.results_data import leaderboard_markdown


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> ScoreCard:
    """The 40-question two-stack run, A priced per hour, B by CPU time (two cost kinds)."""
    plain = make_card(tmp_path_factory)
    a = plain.summaries[A].model_copy(update={"cost": Cost(
        per_hour=0.45, currency="USD", per_1k_answers=0.0521)})
    b = plain.summaries[B].model_copy(update={"cost": Cost(cpu_s_per_answer=0.834)})
    return plain.model_copy(update={"summaries": {A: a, B: b}})


def _tied(card: ScoreCard) -> Choice:
    """The card's choice with both stacks in one quality tier (statistically tied)."""
    choice = recommend(card, [])
    for r in choice.ranked:
        r.group = 1
    return choice


class _Board(App[None]):
    def compose(self) -> ComposeResult:
        from workbench.tui.widgets.leaderboard import LeaderboardTable

        yield LeaderboardTable()


async def _tui_rows(card: ScoreCard, choice: Choice, width: int) -> dict[str, list[str]]:
    from workbench.tui.data import stack_tags
    from workbench.tui.widgets.leaderboard import LeaderboardTable

    app = _Board()
    async with app.run_test(size=(width, 24)) as pilot:
        table = app.query_one(LeaderboardTable)
        table.show(card, choice, stack_tags(card))
        await pilot.pause()
        heads = [str(c.label) for c in table.columns.values()]
        rows = {str(k.value): [str(x) for x in table.get_row(k)] for k in table.rows}
        subtitle = str(table.border_subtitle)
    return {"#heads": heads, "#subtitle": [subtitle], **rows}


def _rich(card: ScoreCard, choice: Choice) -> str:
    console = Console(record=True, width=250)
    console.print(render_rich(card, choice))
    return console.export_text()


def _cli_row(text: str, label: str) -> list[str]:
    """The leaderboard's row of the stack labelled `label` in rich's box table."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 3 and cells[2].removesuffix(" (baseline)") == label:
            return cells[1:-1]
    raise AssertionError(f"no leaderboard row for {label}")


def _md_row(md: str, stack: str) -> str:
    return next(line for line in md.splitlines()
                if line.startswith("| ") and f" {stack}" in line.split(" | ")[1])


async def test_every_view_shows_the_rows_tie_mark_and_cost_text(card: ScoreCard) -> None:
    choice = _tied(card)
    board = leaderboard(card, choice)
    rows = {r.stack: r for r in board.rows}
    # Tied: both ranks carry the mark; the two cost kinds keep one format each.
    assert [r.rank_text for r in board.rows] == [f"1{TIE_MARK}", f"2{TIE_MARK}"]
    assert rows[A].cost_text == "0.052/1k" and rows[B].cost_text == "0.83 CPU-s"
    assert board.currency == "USD" and "USD per 1,000 answers" in board.cost_note
    md, web, cli = render_markdown(card, choice), leaderboard_markdown(card, choice), \
        _rich(card, choice)
    tui = await _tui_rows(card, choice, 120)
    for r in board.rows:
        for text in (md, web):
            cells = [c.strip().replace("\xa0", " ") for c in _md_row(text, r.stack).split("|")]
            assert cells[1] == r.rank_text and r.cost_text in cells, (r.stack, cells)
        row = _cli_row(cli, r.label)
        assert row[0] == r.rank_text and r.cost_text in row
        assert tui[r.stack][0] == r.rank_text and r.cost_text in tui[r.stack]
    # Not tied: no mark anywhere.
    apart = recommend(card, [])
    for r in apart.ranked:
        r.group = r.rank
    assert all(TIE_MARK not in x.rank_text for x in leaderboard(card, apart).rows)
    assert f"1{TIE_MARK}" not in _md_row(leaderboard_markdown(card, apart), A)


async def test_a_run_with_a_load_pass_shows_capacity_in_every_view(card: ScoreCard) -> None:
    loaded = with_load(card)
    choice = recommend(loaded, [])
    board = leaderboard(loaded, choice)
    rows = {r.stack: r for r in board.rows}
    a, b = rows[A].capacity, rows[B].capacity
    assert a is not None and b is not None
    # A holds the 2 rps target at c=2; B broke there by queueing and holds 1 rps.
    assert (a.text, b.text) == ("2.00 rps ✓", "1.00 rps ✗")
    # CPU-seconds per correct answer at capacity: A 200 s for 100, B 110 s for 50.
    assert (a.cost_text, b.cost_text) == ("2.00 CPU-s", "2.20 CPU-s")
    assert any(f.startswith("cannot hold the target 2 rps (broke at c=2)")
               for f in rows[B].flags)
    assert board.load_short == "capacity at target 2 rps"
    md, web, cli = render_markdown(loaded, choice), leaderboard_markdown(loaded, choice), \
        _rich(loaded, choice)
    tui = await _tui_rows(loaded, choice, 80)
    assert "Capacity" in tui["#heads"] and "Cost@cap" in tui["#heads"]
    assert "capacity at target 2 rps" in tui["#subtitle"][0]
    for r in board.rows:
        assert r.capacity is not None
        for text in (md, web):
            cells = [c.strip() for c in _md_row(text, r.stack).split("|")]
            assert r.capacity.text in cells and r.capacity.cost_text in cells, cells
        row = _cli_row(cli, r.label)
        assert r.capacity.text in row and r.capacity.cost_text in row
        # 80 columns: the Δ columns and the concurrency-1 cost make room for these two.
        assert tui[r.stack][-2:] == [r.capacity.text, r.capacity.cost_text]
    # Without the load pass: each view says the choice was made at concurrency 1.
    plain = recommend(card, [])
    assert "chosen at concurrency 1" in leaderboard_markdown(card, plain)
    assert "chosen at concurrency 1" in render_markdown(card, plain).split("## Leaderboard")[1]
    assert "chosen at concurrency 1" in _rich(card, plain).split("Leaderboard")[1]
    assert "chosen at concurrency 1" in (await _tui_rows(card, plain, 80))["#subtitle"][0]
    assert "Capacity" not in leaderboard_markdown(card, plain)


def test_latency_and_cost_texts_fit_their_columns() -> None:
    assert [seconds_text(x) for x in (0.0452, 0.93, 1.1441, 15.871, 159.2, None)] == [
        "45.2 ms", "930 ms", "1.14 s", "15.9 s", "159 s", "n/a"]
    assert all(len(seconds_text(x)) <= 7 for x in (0.0999, 0.9994, 9.999, 99.94, 999.0))
    assert [amount_text(x) for x in (0.0, 0.0004211, 0.0521, 0.1, 12.345, 12345.0)] == [
        "0.00", "0.00042", "0.052", "0.10", "12.35", "12,345"]
