"""A run in progress on the Results screen (its stacks, progress per stack and failures,
polled from the store while another process runs it), and failures in the Run log."""

from __future__ import annotations

import json
from typing import Any

from textual.pilot import Pilot

from tests.fakes.seed_backend import seed_server, write_external_stack
from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from tests.tui.live_helpers import finish_run, store_running_run
from tests.tui.test_run import start, wait_for
from workbench.report.provisional import PROVISIONAL_HEADER
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.screens.run import RunScreen
from workbench.tui.widgets.choice import ChoicePanel
from workbench.tui.widgets.leaderboard import LeaderboardTable
from workbench.tui.widgets.live_run import LiveRunPanel
from workbench.tui.widgets.questions import QuestionTable


def _text(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one(LiveRunPanel).render())


async def test_a_running_run_shows_each_stacks_progress_then_its_results(
        workspace: Workspace) -> None:
    with workspace.store() as store:
        run_id, total = store_running_run(store, 50)
    app = workspace.app(run_id=run_id, refresh_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        panel = screen.query_one(LiveRunPanel)
        assert panel.display and screen.has_class("-live")
        assert panel.border_title == f"Run {run_id} · 3 stacks · synthetic"
        lines = _text(pilot).splitlines()
        assert lines[0].startswith("running · 50 of 120 answers · 1 failed")
        assert lines[1].startswith("1: llamacpp-cpu (base)") and " 17/40 err 0" in lines[1]
        assert lines[2].startswith("2: vllm-cpu") and " 17/40 err 1 · engine timeout" \
            in lines[2]
        assert lines[3].startswith("3: llamacpp-cpu-qwen05") and " 16/40 err 0" in lines[3]
        # No verdict mid-run: no choice, no rank, no Δ or ✓; each stack's own numbers.
        assert str(screen.query_one(ChoicePanel).border_title) == \
            f"Provisional · run {run_id} · 50 of 120 answers"
        shown = str(screen.query_one("#choice-text").render())
        assert shown.startswith("provisional: the run is not complete, so no stack is chosen")
        board = screen.query_one(LeaderboardTable)
        assert str(board.border_title).startswith("Provisional")
        assert [str(c.label) for c in board.columns.values()] == PROVISIONAL_HEADER
        cells = " ".join(str(c) for key in board.rows for c in board.get_row(key))
        for verdict in ("✓", "Choose", "better", "faster", "slower", "tied"):
            assert verdict not in cells + shown
        # Nor per question: no "F1 win" or "Faster" column while it runs.
        questions = screen.query_one(QuestionTable)
        heads = [str(c.label) for c in questions.columns.values()]
        assert heads[:2] == ["#", "Question"] and not {"F1 win", "Faster"} & set(heads)
        # The runner (another process, here the test) stores more: the poll shows it.
        with workspace.store() as store:
            finish_run(store, run_id, 50)
        for _ in range(200):
            await pilot.pause(0.05)
            if not panel.display and screen.loaded is not None \
                    and screen.loaded.state.status == "completed":
                break
        await settle(pilot)
        assert not panel.display and not screen.has_class("-live")
        assert screen.loaded is not None and screen.loaded.card.n_pairs == total // 3
        assert str(screen.query_one(ChoicePanel).border_title).startswith(
            f"Recommendation · run {run_id}")
        heads = [str(c.label) for c in questions.columns.values()]
        assert heads[2] == "F1 win" and heads[-1] == "Faster"  # complete: outcomes back


async def test_a_run_with_no_answer_yet_shows_its_stacks(workspace: Workspace) -> None:
    with workspace.store() as store:
        run_id, _ = store_running_run(store, 0)
    app = workspace.app(run_id=run_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = _text(pilot).splitlines()
        assert lines[0].startswith("running · 0 of 120 answers · 0 failed · no answer yet")
        assert [line.split("  ")[0] for line in lines[1:]] == \
            ["1: llamacpp-cpu (base)", "2: vllm-cpu", "3: llamacpp-cpu-qwen05"]


async def test_the_run_log_names_each_failure(workspace: Workspace) -> None:
    folder = workspace.settings.evalsets_dir / "mini"
    lines = (folder / "questions.jsonl").read_text().splitlines()
    boom = json.loads(lines[1]) | {"question": "What is boom 1?"}
    (folder / "questions.jsonl").write_text("\n".join([lines[0], json.dumps(boom),
                                                       *lines[2:]]) + "\n")
    with seed_server() as url_a, seed_server() as url_b:
        write_external_stack(workspace.settings.stacks_dir, "ext-a", url_a)
        write_external_stack(workspace.settings.stacks_dir, "ext-b", url_b)
        app = workspace.app(start_mode="run")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await start(pilot, screen, ["ext-a", "ext-b"])
            await wait_for(pilot, lambda: screen.phase == "completed")
            for name in ("ext-a", "ext-b"):
                progress = screen.progress_of(name)
                assert progress is not None and (progress.done, progress.errors) == (4, 1)
            log = "\n".join(str(line) for line in screen.query_one("#run-log").lines)
            for name in ("ext-a", "ext-b"):
                assert f"{name} · q1 · error: " in log


async def test_results_follow_the_run_this_app_is_running(workspace: Workspace) -> None:
    with seed_server(delay_s=0.3) as url_a, seed_server(delay_s=0.3) as url_b:
        write_external_stack(workspace.settings.stacks_dir, "ext-a", url_a)
        write_external_stack(workspace.settings.stacks_dir, "ext-b", url_b)
        app = workspace.app(start_mode="run", refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await start(pilot, screen, ["ext-a", "ext-b"])
            await wait_for(pilot, lambda: screen.phase == "running")
            await pilot.press("3")
            results = app.screen
            assert isinstance(results, ResultsScreen)
            panel = results.query_one(LiveRunPanel)
            await wait_for(pilot, lambda: panel.display and "ext-b" in _text(pilot))
            assert panel.border_title == f"Run {screen.run_id} · 2 stacks · mini"
            assert "A: ext-a (base)" in _text(pilot) and "/4 err " in _text(pilot)
            # When the run ends, the screen scores it and the progress panel goes.
            await wait_for(pilot, lambda: screen.phase == "completed", 120)
            await wait_for(pilot, lambda: not panel.display and results.loaded is not None
                           and results.loaded.state.status == "completed", 120)
            assert results.loaded is not None and results.loaded.card.n_pairs == 4


async def test_the_provisional_card_follows_the_answers(workspace: Workspace,
                                                        monkeypatch: Any) -> None:
    monkeypatch.setattr("workbench.tui.screens.results.RESCORE_EVERY_S", 0.0)
    with workspace.store() as store:
        run_id, _ = store_running_run(store, 0)
    app = workspace.app(run_id=run_id, refresh_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        shown = str(screen.query_one("#choice-text").render())
        assert shown.startswith("provisional: the run is not complete")
        with workspace.store() as store:
            finish_run(store, run_id, 0)
            store.set_status(run_id, "running")  # all answered, still running
        await wait_for(pilot, lambda: screen.loaded is not None
                       and screen.loaded.card.n_pairs > 0, 60)
        assert screen.query_one(LiveRunPanel).display  # still running: progress stays
        # Every answer is in but the run is not completed: still no choice (point 7).
        shown = str(screen.query_one("#choice-text").render())
        assert "120 of 120 answers so far" in shown and "Choose" not in shown
