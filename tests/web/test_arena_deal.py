"""The Arena opens on the latest run's stacks and eval set and deals that run's questions;
a vote on a dealt question is stored with the run's id, so the run's vote summary (blind
votes on its questions) counts it. Screenshots at 1400x900 and 1024x768 in a real chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.web.conftest import ARTIFACTS, serve
from workbench.settings import Settings
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run
from workbench.web.arena import ArenaRound, ask, deal_next, vote
from workbench.web.arena_deal import arena_start, deal
from workbench.web.arena_stream import Pane
from workbench.web.common import WebConfig


def _cfg(tmp_path: Path, db: Path | None) -> WebConfig:
    # The project's recipes, and an empty state folder: no stack is running.
    settings = Settings(stacks_dir=ROOT / "stacks", state_dir=tmp_path / "state")
    return WebConfig(settings=settings, db=db, semantic=False)


@pytest.fixture
def latest(tmp_path: Path) -> tuple[WebConfig, str]:
    db = tmp_path / "arena.db"
    with Store(db) as store:
        store_synthetic_run(store, 12, seed=1)  # an older two-stack run
        run_id = store_synthetic_run(store, 20, seed=5, stacks=3)
    return _cfg(tmp_path, db), run_id


def test_opens_on_the_latest_runs_stacks_and_eval_set(latest: tuple[WebConfig, str]) -> None:
    cfg, run_id = latest
    start = arena_start(cfg)
    assert (start.stack_a, start.stack_b) == ("llamacpp-cpu", "vllm-cpu")
    assert start.evalset == "synthetic" and start.run_id == run_id
    assert run_id in start.note and "none of its stacks is running" in start.note


def test_without_a_run_it_never_opens_on_the_external_template(tmp_path: Path) -> None:
    start = arena_start(_cfg(tmp_path, tmp_path / "none.db"))
    assert start.run_id is None and "external" not in (start.stack_a, start.stack_b)
    assert start.stack_a and start.stack_b and start.stack_a != start.stack_b
    assert "No stored run yet" in start.note and start.evalset == "demo-en"


def test_deals_unvoted_run_questions_in_order(latest: tuple[WebConfig, str]) -> None:
    cfg, run_id = latest
    with Store(cfg.db_path) as store:
        texts = [q.question for q in store.questions(run_id)]
    first = deal(cfg, run_id)
    assert first is not None and (first.position, first.question) == (0, texts[0])
    second = deal(cfg, run_id, first)
    assert second is not None and second.question == texts[1]
    assert deal(cfg, None) is None
    # A vote on the second question, stored with the run: the next deal after the first
    # skips it.
    rnd = ArenaRound(question=second.question, space_id="synthetic",
                     stacks={"A": "llamacpp-cpu", "B": "vllm-cpu"}, blind=True,
                     gold=second.gold, run_id=run_id, question_id=second.question_id,
                     panes={s: Pane(stack=n, started=0.0, text="an answer", finished_at=1.0)
                            for s, n in (("A", "llamacpp-cpu"), ("B", "vllm-cpu"))})
    status, *_ = vote(cfg, "left", rnd)
    assert "Vote stored" in status
    third = deal(cfg, run_id, first)
    assert third is not None and third.question == texts[2]
    question, gold_box, state, note = deal_next(cfg, None)
    assert question == texts[0] and gold_box == "" and state is not None
    assert f"Question 1 of 20 from run `{run_id}`" in note


async def test_a_dealt_question_carries_its_run_into_the_round(
        latest: tuple[WebConfig, str]) -> None:
    cfg, run_id = latest
    dealt = deal(cfg, run_id)
    assert dealt is not None
    # "external" cannot stream: the round is built, then refused before any request.
    views = [v async for v in ask(cfg, dealt.question, "external", "llamacpp-cpu",
                                  "synthetic", True, "", None, dealt)]
    rnd = views[-1].round
    assert rnd is not None and (rnd.run_id, rnd.question_id) == (run_id, dealt.question_id)
    assert rnd.gold == dealt.gold
    edited = [v async for v in ask(cfg, dealt.question + " (edited)", "external",
                                   "llamacpp-cpu", "synthetic", True, "", None, dealt)]
    assert edited[-1].round is not None and edited[-1].round.run_id is None


@pytest.mark.slow  # a real browser
@pytest.mark.parametrize("size", [(1400, 900), (1024, 768)])
def test_the_arena_page_opens_on_the_latest_run(latest: tuple[WebConfig, str], page: Any,
                                                size: tuple[int, int]) -> None:
    cfg, run_id = latest
    with Store(cfg.db_path) as store:
        first = store.questions(run_id)[0].question
    demo, url = serve(cfg)
    try:
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.goto(url)
        page.locator("#arena-run-note", has_text=run_id).wait_for(timeout=30_000)
        assert page.locator("#arena-stack-a input").input_value() == "llamacpp-cpu"
        assert page.locator("#arena-stack-b input").input_value() == "vllm-cpu"
        assert page.locator("#arena-evalset input").input_value() == "synthetic"
        page.locator("#arena-deal").click()
        page.locator("#arena-status", has_text="Question 1 of 20").wait_for(timeout=30_000)
        assert page.locator("#arena-question textarea").input_value() == first
        page.wait_for_timeout(500)  # the pending-output fade ends after the event
        page.screenshot(path=str(ARTIFACTS / f"arena-deal-{size[0]}x{size[1]}.png"))
    finally:
        demo.close()


@pytest.mark.slow
@pytest.mark.llamacpp
async def test_a_dealt_question_asked_of_real_stacks_counts_in_the_runs_votes(
        pair_config: WebConfig) -> None:
    """Two real RAG services over llama.cpp: the Arena opens on the stored run's stacks and
    eval set, deals its question, streams both answers, and the blind vote is stored with
    the run, so the run's vote summary (blind votes on its questions) rates it."""
    import random

    from workbench.records.evalset import Question
    from workbench.report.stored import scorecard_for_run
    from workbench.report.votes import votes_for_run

    q = Question(id="q-founded", question="In what year was Quillmoor Labs founded?",
                 answers=["2011"])
    with Store(pair_config.db_path) as store:
        run_id = store.create_run(
            evalset="demo-en", evalset_digest="-", schedule="interleaved",
            stacks=[{"name": "side-a", "engine": "llamacpp"},
                    {"name": "side-b", "engine": "llamacpp"}],
            questions=[q], manifest={}, limit=None)
    start = arena_start(pair_config)
    assert (start.stack_a, start.stack_b, start.evalset) == ("side-a", "side-b", "demo-en")
    dealt = deal(pair_config, run_id)
    assert dealt is not None and dealt.question == q.question
    views = [v async for v in ask(pair_config, dealt.question, "side-a", "side-b", "demo-en",
                                  True, "", None, dealt, rng=random.Random(2))]
    rnd = views[-1].round
    assert rnd is not None and "Vote" in views[-1].status, views[-1].status
    assert "token F1" not in views[-1].left_answer  # blind: no hint before the vote
    status, *_ = vote(pair_config, "tie", rnd)
    assert "Vote stored" in status
    with Store(pair_config.db_path) as store:
        card = scorecard_for_run(store, run_id, semantic=False)
        summary = votes_for_run(store, run_id, card)
        [stored] = store.votes()
    assert stored["run_id"] == run_id and summary.n_used == 1
    assert {r.stack for r in summary.ratings} == {"side-a", "side-b"}
