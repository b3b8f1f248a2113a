"""The Results tab's votes block: each stack's arena rating beside its F1 (handler), and
the block as a browser shows it at 1400x900 and 1024x768."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.live_helpers import add_votes
from tests.web.conftest import ARTIFACTS, serve
from workbench.report.stored import scorecard_for_run
from workbench.report.votes import rating_text, votes_for_run
from workbench.store.db import Store
from workbench.web.common import WebConfig
from workbench.web.votes_panel import votes_for_card


def test_the_block_puts_each_rating_beside_f1(three_stacks: tuple[WebConfig, str]) -> None:
    cfg, run_id = three_stacks
    with Store(cfg.db_path) as store:
        add_votes(store, run_id, 60)
        card = scorecard_for_run(store, run_id, semantic=False)
        summary = votes_for_run(store, run_id, card)
    md = votes_for_card(cfg, card)
    assert md.startswith("### Human votes (Arena) beside the automatic scores")
    assert "| Stack | F1 | Vote rating [95% CI] | W-T-L | Votes |" in md
    rows = [line for line in md.splitlines() if line.startswith("| llamacpp")
            or line.startswith("| vllm")]
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == \
        [r.stack for r in summary.ratings]
    top = summary.ratings[0]
    f1 = card.summaries[top.stack].quality["f1"]
    assert rows[0] == (f"| {top.stack} | {f1:.3f} | {rating_text(top)} | {top.wins}-"
                       f"{top.ties}-{top.losses} | {top.votes} |")
    assert "- 60 arena votes between this run's stacks (30 blind; 60 on this run's " \
           "questions); rated: the 30 blind votes on this run's questions (30 other votes " \
           "left out; pooling them is an option)." in md
    assert "- No LLM judge scores for this run" in md
    assert "<small>Ratings from the 30 blind votes" in md and "Davidson" in md


def test_no_votes_and_no_run(three_stacks: tuple[WebConfig, str]) -> None:
    cfg, run_id = three_stacks
    assert votes_for_card(cfg, None) == ""
    with Store(cfg.db_path) as store:
        card = scorecard_for_run(store, run_id, semantic=False)
    md = votes_for_card(cfg, card)
    assert "No arena votes between this run's stacks yet" in md and "Vote rating" not in md


@pytest.mark.slow  # a real browser
def test_the_browser_shows_the_votes(three_stacks: tuple[WebConfig, str], page: Any) -> None:
    cfg, run_id = three_stacks
    with Store(cfg.db_path) as store:
        add_votes(store, run_id, 60)
    demo, url = serve(cfg)
    try:
        page.goto(f"{url}?run={run_id}")
        page.get_by_role("tab", name="Results").click()
        block = page.locator("#results-votes")
        block.locator("table").wait_for(timeout=120_000)
        headers = [h.inner_text().strip() for h in block.locator("th").all()]
        assert headers == ["Stack", "F1", "Vote rating [95% CI]", "W-T-L", "Votes"]
        first = [c.inner_text().strip() for c in block.locator("tbody tr").first
                 .locator("td").all()]
        assert first[0] == "llamacpp-cpu-qwen05" and first[2].count("[") == 1
        for width, height in ((1400, 900), (1024, 768)):
            page.set_viewport_size({"width": width, "height": height})
            block.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"votes-{width}x{height}.png"))
            box = block.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
    finally:
        demo.close()
