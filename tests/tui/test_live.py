"""A run in progress on the Results screen (its stacks, progress per stack and failures,
polled from the store while another process runs it), and failures in the Run log."""

from __future__ import annotations

import json

from textual.pilot import Pilot

from tests.fakes.seed_backend import seed_server, write_external_stack
from tests.tui.conftest import Workspace
from tests.tui.helpers import settle
from tests.tui.live_helpers import finish_run, store_running_run
from tests.tui.test_run import start, wait_for
from workbench.tui.screens.results import ResultsScreen
from workbench.tui.screens.run import RunScreen
from workbench.tui.widgets.choice import ChoicePanel
from workbench.tui.widgets.live_run import LiveRunPanel


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
        assert str(screen.query_one(ChoicePanel).border_title).startswith(
            "Provisional recommendation · 50 of 120 answers")
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
