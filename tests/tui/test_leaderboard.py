"""The leaderboard widget's faithfulness column: shown only for a run that has the score,
with the judged share or the planted false answers repeated."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from workbench.report.choice import recommend
from workbench.report.models import Faithfulness, PlantedFalse, ScoreCard
from workbench.report.stored import scorecard_for_run
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run
from workbench.tui.data import stack_tags
from workbench.tui.widgets.leaderboard import COLUMNS, LeaderboardTable


def _card(tmp_path: Path) -> ScoreCard:
    with Store(tmp_path / "w.db") as store:
        return scorecard_for_run(store, store_synthetic_run(store, 20, stacks=3),
                                 semantic=False)


def _with_faithfulness(card: ScoreCard) -> ScoreCard:
    judged = card.summaries["vllm-cpu"].model_copy(
        update={"faithfulness": Faithfulness(judged=50, mean=0.815)})
    planted = card.summaries["llamacpp-cpu"].model_copy(update={"faithfulness": Faithfulness(
        planted=PlantedFalse(repeated=3, answered=24, rate=0.125))})
    return card.model_copy(update={"summaries": {**card.summaries, "vllm-cpu": judged,
                                                 "llamacpp-cpu": planted}})


class _Board(App[None]):
    def compose(self) -> ComposeResult:
        yield LeaderboardTable()


async def test_faith_column_appears_with_the_score_and_goes_with_it(tmp_path: Path) -> None:
    plain = _card(tmp_path)
    faithful = _with_faithfulness(plain)
    app = _Board()
    async with app.run_test(size=(80, 24)) as pilot:
        board = app.query_one(LeaderboardTable)
        board.show(faithful, recommend(faithful, []), stack_tags(faithful))
        await pilot.pause()
        # 80 columns: the Faith column costs the ΔE2E one (v shows every difference).
        assert [str(c.label) for c in board.columns.values()] == [
            *[c for c in COLUMNS if c != "ΔE2E"], "Faith"]
        assert str(board.get_row("vllm-cpu")[-1]) == "0.81"
        assert str(board.get_row("llamacpp-cpu")[-1]) == "3/24"
        assert board.border_title is not None and "Faith n/m: planted" in board.border_title
        assert str(board.get_row("llamacpp-cpu-qwen05")[-1]) == "-"
        # Another run without the score: the column goes.
        board.show(plain, recommend(plain, []), stack_tags(plain))
        await pilot.pause()
        assert [str(c.label) for c in board.columns.values()] == list(COLUMNS)
        assert board.border_title is not None and "Faith" not in board.border_title
