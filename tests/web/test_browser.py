"""The page in a real headless chromium: the Results tab leads with the recommendation and
the leaderboard of a three-stack run (the CLI report's numbers), a question opens with
every stack's answer, a run stored before N-stack runs opens, and an Arena question fills
both panes from real stacks. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.web.conftest import ARTIFACTS, serve
from workbench.report.models import Comparison
from workbench.report.verdict import format_diff, format_value
from workbench.web.common import WebConfig

pytestmark = pytest.mark.slow


def _cli_json(cfg: WebConfig, run_id: str) -> dict[str, Any]:
    from typer.testing import CliRunner

    from workbench.cli import _register_commands, app

    _register_commands()
    result = CliRunner().invoke(app, ["report", run_id, "--format", "json", "--no-semantic",
                                      "--db", str(cfg.db_path)])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _pick_run(page: Any, url: str) -> None:
    """Open Results: with one stored run it opens by itself (the latest completed)."""
    page.goto(url)
    page.get_by_role("tab", name="Results").click()
    page.locator("#results-table [data-testid=cell-2-1]").wait_for(timeout=60_000)


def test_results_tab_leads_with_the_choice(three_stacks: tuple[WebConfig, str],
                                           page: Any) -> None:
    cfg, run_id = three_stacks
    card = _cli_json(cfg, run_id)
    demo, url = serve(cfg)
    try:
        page.set_viewport_size({"width": 1400, "height": 900})
        _pick_run(page, url)
        choice = page.locator("#results-choice")
        choice.get_by_text("Choose llamacpp-cpu-qwen05", exact=True).wait_for(timeout=30_000)
        assert "Constraints: e2e.p50<=2s, f1>=0.2" in choice.inner_text()
        assert choice.inner_text().count("llamacpp-cpu-qwen05:") >= 1
        # The recommendation first, then the leaderboard, then the details.
        tops = [page.locator(f"#results-{part}").bounding_box()["y"]
                for part in ("choice", "pareto", "leaderboard", "report")]
        assert tops == sorted(tops), tops
        board = page.locator("#results-leaderboard")
        for stack in card["stacks"]:
            summary = card["summaries"][stack]
            row = board.locator("tr", has_text=stack).last.inner_text()
            # (Inside an interval the spaces do not break: "[+0.078,\xa0+0.345]".)
            cells = [x.strip().replace("\xa0", " ") for x in row.split("\t")]
            assert cells[2] == format_value(summary["quality"]["f1"], ""), cells
            if stack == card["baseline"]:
                assert cells[3] == "baseline"
            else:
                c = Comparison.model_validate(next(
                    x for x in card["comparisons"] if x["key"] == "f1"
                    and x["candidate"] == stack))
                assert cells[3].startswith(format_diff(c)), cells
        report = page.locator("#results-report")
        c = Comparison.model_validate(next(x for x in card["comparisons"] if x["key"] == "hit@5"
                                           and x["candidate"] == "llamacpp-cpu-qwen05"))
        row = report.locator("tr", has_text=c.label).last.inner_text()
        assert format_diff(c) in row
        # The table has one F1 · E2E column per stack.
        headers = page.locator("#results-table thead").inner_text()
        for stack in card["stacks"]:
            assert f"{stack}: F1 · E2E" in headers
        page.locator("#results-hit-k .js-plotly-plot .legendtext").first.wait_for(
            timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "results-1400x900.png"))
        page.screenshot(path=str(ARTIFACTS / "results-full.png"), full_page=True)
        page.set_viewport_size({"width": 1024, "height": 768})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "results-1024x768.png"))
        qid = page.locator("#results-table [data-testid=cell-2-0]").inner_text().strip()
        page.locator("#results-table [data-testid=cell-2-1]").click()
        detail = page.locator("#results-detail")
        detail.get_by_text("Retrieved context").first.wait_for(timeout=30_000)
        question = next(r["question"] for r in card["rows"] if r["question_id"] == qid)
        text = detail.inner_text()
        assert question in text
        for stack in card["stacks"]:
            assert stack in text
        detail.screenshot(path=str(ARTIFACTS / "results-detail.png"))
    finally:
        demo.close()


def test_a_run_stored_before_named_stacks_opens(old_run: tuple[WebConfig, str],
                                                page: Any) -> None:
    cfg, _ = old_run
    demo, url = serve(cfg)
    try:
        _pick_run(page, url)
        board = page.locator("#results-leaderboard")
        board.get_by_text("A: llamacpp-cpu (baseline)").wait_for(timeout=30_000)
        assert "B: vllm-cpu" in board.inner_text()
        page.get_by_role("tab", name="History").click()
        runs = page.locator("#history-runs")
        # Gradio keeps a hidden copy of each cell, so wait on the table's text instead.
        for _ in range(60):
            if "old-demo" in runs.inner_text():
                break
            page.wait_for_timeout(500)
        assert "llamacpp-cpu (baseline), vllm-cpu" in runs.inner_text()
        page.screenshot(path=str(ARTIFACTS / "history-old.png"), full_page=True)
    finally:
        demo.close()


@pytest.mark.llamacpp
def test_arena_fills_both_panes(pair_config: WebConfig, page: Any) -> None:
    demo, url = serve(pair_config)
    try:
        page.goto(url)
        page.locator("#arena-question textarea").fill("Who founded Quillmoor Labs?")
        page.locator("#arena-ask").click()
        page.locator("#arena-status", has_text="Vote").wait_for(timeout=240_000)
        for pos in ("left", "right"):
            text = page.locator(f"#arena-{pos}-answer").inner_text()
            assert "TTFT" in text and "done" in text and len(text) > 60, text
        page.screenshot(path=str(ARTIFACTS / "arena.png"), full_page=True)
        page.locator("#vote-tie").click()
        page.locator("#arena-status", has_text="Vote stored").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "arena-voted.png"), full_page=True)
    finally:
        demo.close()


@pytest.mark.llamacpp
def test_run_tab_shows_each_stacks_progress(pair_config: WebConfig, page: Any) -> None:
    """A real run of two RAG services over llama.cpp, started and watched in the page."""
    demo, url = serve(pair_config)
    try:
        page.goto(url)
        page.get_by_role("tab", name="Run").click()
        page.locator("#run-evalset input").fill("demo-en")
        page.get_by_role("option", name="demo-en").click()
        page.locator("#run-limit input").fill("6")
        page.locator("#run-start").click()
        progress = page.locator("#run-progress")
        # From the first tick: the run's stacks, the baseline marked.
        progress.get_by_text("stacks: side-a (baseline), side-b").wait_for(timeout=60_000)
        # Mid-run: some answers stored, not all.
        progress.get_by_text(re.compile(r"\b([1-9]|1[01]) of 12 answers stored")).wait_for(
            timeout=400_000)
        for width, height in ((1400, 900), (1024, 768)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"run-live-{width}x{height}.png"))
        try:
            progress.get_by_text("✓ Completed").wait_for(timeout=600_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "run-completed.png"), full_page=True)
        text = progress.inner_text()
        assert "12 of 12 answers stored" in text, text
        rows = {r.split("\t")[0].strip(): r for r in progress.locator("tbody tr")
                .all_inner_texts()}
        assert "6 / 6" in rows["side-a (baseline)"] and "6 / 6" in rows["side-b"], rows
    finally:
        demo.close()
