"""The Arena and Run handlers against two real RAG services over a real llama.cpp."""

from __future__ import annotations

import random
import time

import pytest

from workbench.store.db import Store
from workbench.web.arena import ArenaView, ask, vote
from workbench.web.common import WebConfig
from workbench.web.run_tab import poll, resume_run, start_run

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]


async def test_arena_streams_both_panes_and_records_a_vote(pair_config: WebConfig) -> None:
    views: list[ArenaView] = []
    async for v in ask(pair_config, "In what year was Quillmoor Labs founded?", "side-a",
                       "side-b", "demo-en", True, "2011", None, rng=random.Random(1)):
        views.append(v)
    last = views[-1]
    assert "Vote" in last.status, last.status
    assert last.round is not None and all(p.finished and not p.error
                                          for p in last.round.panes.values())
    # Both panes grew while streaming: some intermediate view shows part of each answer.
    for attr in ("left_answer", "right_answer"):
        sizes = [len(getattr(v, attr)) for v in views if v.round and v.round.panes]
        assert len(set(sizes)) > 2, sizes
    assert "TTFT" in last.left_answer and "tok/s" in last.right_answer
    assert "score" in last.left_sources and "**1." in last.right_sources
    assert "side-" not in last.left_title  # blind until the vote
    status, left_title, _, _ = vote(pair_config, "both_bad", last.round)
    assert "Vote stored" in status and "side-" in left_title
    with Store(pair_config.db_path) as store:
        assert store.votes()[0]["vote"] == "both_bad"


def _wait(job: object, *until: str, timeout: float = 240) -> str:
    """Poll as the page does until its text shows one of `until`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text, _ = poll(job)  # type: ignore[arg-type]
        if any(u in text for u in until):
            return text
        time.sleep(0.5)
    raise AssertionError(f"none of {until!r} in time: {text}")


def test_run_cancel_and_resume(pair_config: WebConfig) -> None:
    _, job, _ = start_run(pair_config, "demo-en", ["side-a", "side-b"], None, "interleaved", 4,
                          None)
    assert job is not None
    # Running: first "preparing: indexing…", then "asking" once answers arrive.
    _wait(job, "**preparing", "**asking")
    job.cancel()
    _wait(job, "cancelled")
    run_id = job.snapshot().run_id
    assert run_id is not None
    with Store(pair_config.db_path) as store:
        assert store.get_run(run_id)["status"] == "cancelled"
    _, again, _ = resume_run(pair_config, run_id, False, job)
    assert again is not None
    text = _wait(again, "completed")
    assert "| side-a (baseline) |" in text and "| side-b |" in text
    with Store(pair_config.db_path) as store:
        run = store.list_runs()[0]
        assert (run["status"], run["responses"]) == ("completed", 8)
