"""The page in a real headless chromium: the Results tab shows the CLI report's numbers,
a question opens in detail, and an Arena question fills both panes from real stacks.
Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import json
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


def test_results_tab_shows_the_cli_numbers(stored_run: tuple[WebConfig, str],
                                           page: Any) -> None:
    cfg, run_id = stored_run
    card = _cli_json(cfg, run_id)
    demo, url = serve(cfg)
    try:
        page.goto(url)
        page.get_by_role("tab", name="Results").click()
        page.locator("#results-run input").click()
        page.get_by_role("option").first.click()
        page.locator("#results-table [data-testid=cell-2-1]").wait_for(timeout=60_000)
        report = page.locator("#results-report")
        for key in ("f1", "e2e.p95", "hit@5"):
            c = Comparison.model_validate(next(x for x in card["comparisons"]
                                               if x["key"] == key))
            row = report.locator("tr", has_text=c.label).first.inner_text()
            cells = [x.strip() for x in row.split("\t")]
            assert cells[:4] == [c.label, format_value(c.a, c.unit),
                                 format_value(c.b, c.unit), format_diff(c)], cells
        assert card["verdict"].split(";")[0] in report.inner_text()
        page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)
        qid = page.locator("#results-table [data-testid=cell-2-0]").inner_text().strip()
        page.locator("#results-table [data-testid=cell-2-1]").click()
        detail = page.locator("#results-detail")
        detail.get_by_text("Retrieved context").first.wait_for(timeout=30_000)
        question = next(r["question"] for r in card["rows"] if r["question_id"] == qid)
        assert question in detail.inner_text()
        detail.screenshot(path=str(ARTIFACTS / "results-detail.png"))
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
