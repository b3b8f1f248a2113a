"""The Review tab: handlers on a generated set folder, and the page in a real browser
(keep, drop and edit by clicking; screenshots at 1400x900 and 1024x768)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.evalsets.build_docs import reviewable_set
from tests.web.conftest import ARTIFACTS, serve
from workbench.evalsets import load_evalset
from workbench.evalsets.builder.review import ReviewSet
from workbench.settings import Settings
from workbench.web.common import WebConfig
from workbench.web.review_tab import act, generated_sets, open_set, show_question


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return reviewable_set(tmp_path / "evalsets")


def test_generated_sets_are_listed_from_the_evalsets_folder(folder: Path,
                                                            tmp_path: Path) -> None:
    (folder.parent / "labelled").mkdir()  # a folder without build.json is not listed
    cfg = WebConfig(settings=Settings(evalsets_dir=folder.parent), db=tmp_path / "x.db")
    assert generated_sets(cfg) == [str(folder)]


def test_open_show_and_act_handlers(folder: Path) -> None:
    path, counts, table, _choices, status = open_set(str(folder))
    assert path == str(folder) and status.startswith("✓")
    assert "4 questions in the set: 4 new" in counts
    assert list(table["id"]) == [q["id"] for q in ReviewSet.open(folder).rows()]
    passage, question, answer = show_question(path, "office.html#0:q1")
    assert "9 Quarry Lane" in passage and "gold passage" in passage
    assert (question, answer) == ("On which lane is the headquarters?", "9 Quarry Lane")
    passage, question, answer = show_question(path, "office.html#1:u1")
    assert "held-out passage" in passage and answer == ""

    counts, table, status = act(path, "it-guide.md#0:q1", "drop")
    assert "1 dropped" in counts and table["state"].iloc[-1] == "dropped"
    counts, table, status = act(path, "office.html#0:q1", "edit",
                                "What is the headquarters' address?", "9 Quarry Lane")
    assert "1 edited" in counts and "edited" in status
    counts, table, status = act(path, "office.html#0:q1", "edit", "Where?", "Mill Road")
    assert status.startswith("✗") and "does not appear" in status
    counts, _, _ = act(path, "it-guide.md#0:q2", "keep")
    assert "1 kept" in counts
    es = load_evalset(folder)
    assert len(es.questions) == 3
    assert next(q for q in es.questions if q.id == "office.html#0:q1").question == \
        "What is the headquarters' address?"
    counts, _, _ = act(path, "it-guide.md#0:q1", "restore")
    assert "0 dropped" in counts and len(load_evalset(folder).questions) == 4


def test_a_folder_that_is_not_a_generated_set_is_an_error(tmp_path: Path) -> None:
    path, _counts, _table, _, status = open_set(str(tmp_path))
    assert path == "" and status.startswith("✗") and "not a generated eval set" in status
    assert act("", None, "keep")[2].startswith("⚠")


@pytest.mark.slow
def test_review_in_the_browser(folder: Path, tmp_path: Path, page: Any) -> None:
    cfg = WebConfig(settings=Settings(evalsets_dir=folder.parent), db=tmp_path / "web.db",
                    semantic=False)
    demo, url = serve(cfg)
    try:
        page.set_viewport_size({"width": 1400, "height": 900})
        page.goto(url)
        page.get_by_role("tab", name="Review").click()
        page.get_by_role("button", name="Open").click()
        counts = page.locator("#review-counts")
        counts.get_by_text("4 questions in the set", exact=False).wait_for(timeout=30_000)
        passage = page.locator("#review-passage")
        passage.get_by_text("Tidewater", exact=False).wait_for(timeout=30_000)
        page.get_by_role("button", name="Keep").click()
        counts.get_by_text("1 kept", exact=False).wait_for(timeout=30_000)
        # Select the third question in the table, edit it and save.
        page.locator("#review-table [data-testid=cell-2-3]").click()
        passage.get_by_text("9 Quarry Lane", exact=False).wait_for(timeout=30_000)
        box = page.locator("#review-question textarea")
        box.fill("What is the street address of the headquarters?")
        page.get_by_role("button", name="Save", exact=True).click()
        counts.get_by_text("1 edited", exact=False).wait_for(timeout=30_000)
        page.get_by_role("button", name="Drop").click()
        counts.get_by_text("1 dropped", exact=False).wait_for(timeout=30_000)
        passage.get_by_text("state: dropped", exact=False).wait_for(timeout=30_000)
        page.wait_for_timeout(300)  # the last update's loading overlay fades out
        page.screenshot(path=str(ARTIFACTS / "review-1400x900.png"))
        page.set_viewport_size({"width": 1024, "height": 768})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "review-1024x768.png"))
    finally:
        demo.close()
    review = ReviewSet.open(folder)
    assert review.status("it-guide.md#0:q1") == "kept"
    assert review.status("office.html#0:q1") == "dropped"
    assert review.find("office.html#0:q1")["question"] == \
        "What is the street address of the headquarters?"
