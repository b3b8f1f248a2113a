"""A run in progress as the web UI shows it, from a real SQLite file: its stacks, each
stack's answered / planned and its errors, in the Results header and the Run tab's panel;
the Results tab opens on the latest completed run or the one in the URL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.web.conftest import LIVE_ANSWERED, LIVE_ERRORS, store_live_run
from workbench.store.db import Store
from workbench.store.progress import run_state
from workbench.web.common import WebConfig
from workbench.web.jobs import RunSnapshot
from workbench.web.live import live_header
from workbench.web.results import detail_for, initial_run, live_tick, load_results, table_page
from workbench.web.run_tab import render_progress


def test_live_header_names_stacks_progress_and_errors(
        running_run: tuple[WebConfig, str, str]) -> None:
    cfg, _, live_id = running_run
    with Store(cfg.db_path) as store:
        live = run_state(store, live_id)
    assert [s.stack for s in live.stacks] == list(LIVE_ANSWERED)
    for s in live.stacks:
        assert (s.answered, s.planned, s.errors) == (LIVE_ANSWERED[s.stack], 40,
                                                     LIVE_ERRORS[s.stack])
    text = live_header(live)
    assert f"Run `{live_id}` is running" in text
    assert "54 of 120 answers stored, 4 failed" in text
    assert "| llamacpp-cpu (baseline) | 30 / 40 |" in text
    assert "| vllm-cpu | 18 / 40 |" in text
    # Each stack's failures with its latest message, from the store (no session needed).
    assert ("| **3**<br><small>last: connection failed: vllm-cpu refused the connection"
            "</small> |") in text
    assert "(none)" not in text and "0 responses" not in text


def test_results_of_a_live_run_lead_with_its_progress(
        running_run: tuple[WebConfig, str, str]) -> None:
    cfg, _, live_id = running_run
    view = load_results(cfg, live_id)
    assert view.live and view.status.startswith(f"**Run `{live_id}` is running**")
    assert "answers stored so far" in view.status
    assert view.card is not None  # what is stored so far is scored
    # No verdict mid-run: each stack's own numbers, marked provisional; no choice, no Δ/✓.
    assert view.choice.startswith("### Provisional · 54 of 120 answers")
    assert "| llamacpp-cpu (base) | 30/40 | 0 |" in view.leaderboard
    assert "appear when the run is complete" in view.report
    for verdict in ("Choose", "✓", "better", "faster", "slower", "tied"):
        assert verdict not in view.choice + view.leaderboard + view.report
    # Nor per question: the table has no "F1 winner" or "faster" column, the detail no line.
    assert list(view.table.columns)[:3] == ["question id", "lang", "answerable"]
    assert not {"F1 winner", "faster"} & set(view.table.columns)
    detail = detail_for(cfg, view.card, str(view.table.iloc[0, 0]))
    assert "F1 winner" not in detail and "faster" not in detail and "Gold answer" in detail
    # No verdict filter is offered mid-run ("candidate better"), nor applied if one is sent.
    assert view.filters is not None and view.filters.visible is False
    assert view.candidate.visible is False
    rows, _, _ = table_page(view.card, None, "candidate better", "", 1)
    assert len(rows) == len(view.card.rows)
    header, _, ended = live_tick(cfg, live_id)
    assert "18 / 40" in header and not ended
    with Store(cfg.db_path) as store:
        store.set_status(live_id, "completed")
    header, _, ended = live_tick(cfg, live_id)
    assert ended and "is completed" in header
    done = load_results(cfg, live_id)  # complete: the per-question outcomes are back
    assert list(done.table.columns)[:3] == ["question id", "F1 winner", "faster"]
    assert done.filters.visible is True and "candidate better" in done.filters.choices[1]


def test_a_run_with_no_answer_yet_shows_only_its_header(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    with Store(db) as store:
        run_id = store_live_run(store)
        run = store.get_run(run_id)
        # A second run of the same stacks with nothing answered yet.
        empty = store.create_run(evalset="synthetic", evalset_digest="x", schedule="interleaved",
                                 stacks=[{"name": "a"}, {"name": "b"}],
                                 questions=store.questions(run_id)[:5],
                                 manifest=run["manifest"], limit=5)
    view = load_results(WebConfig(db=db, semantic=False), empty)
    assert view.card is None and view.live
    assert "| a (baseline) | 0 / 5 |" in view.status and "| b | 0 / 5 |" in view.status


def test_opens_on_the_latest_completed_run_or_the_one_asked_for(
        running_run: tuple[WebConfig, str, str]) -> None:
    cfg, done, live_id = running_run
    assert initial_run(cfg, None) == done
    assert initial_run(cfg, live_id) == live_id
    assert initial_run(cfg, live_id[:12]) == live_id
    assert initial_run(cfg, "NO-SUCH-RUN") == done
    assert initial_run(WebConfig(db=cfg.db_path.with_name("none.db")), None) is None


def test_run_tab_panel_shows_stacks_before_and_progress_during(
        running_run: tuple[WebConfig, str, str]) -> None:
    cfg, _, live_id = running_run
    preparing = RunSnapshot(state="starting", run_id=None, stacks=list(LIVE_ANSWERED),
                            baseline="llamacpp-cpu", done={}, total={}, errors={},
                            mean_e2e_s={}, messages=[], error=None, elapsed_s=3.0)
    text = render_progress(preparing)
    assert "recording the run" in text
    assert "preparing" in render_progress(dataclasses.replace(preparing, state="running"))
    assert "stacks: llamacpp-cpu (baseline), vllm-cpu, llamacpp-cpu-qwen05" in text
    with Store(cfg.db_path) as store:
        live = run_state(store, live_id)
    running = dataclasses.replace(
        preparing, state="running", run_id=live_id, live=live,
        mean_e2e_s={"llamacpp-cpu": 1.25},
        last_error={"vllm-cpu": "connection failed: vllm-cpu refused the connection"})
    text = render_progress(running)
    assert "54 of 120 answers stored (40 questions x 3 stacks), 4 failed." in text
    assert "| llamacpp-cpu (baseline) | 30 / 40 |" in text and "| 1.25 s |" in text
    assert "last: connection failed: vllm-cpu refused the connection" in text
    assert "| llamacpp-cpu-qwen05 | 6 / 40 |" in text
