"""Blind mode stays blind until the vote: no output of an unvoted blind round says which
stack sits on which side, not even an error naming a stack or its URL (handler level: the
tab's outputs are exactly what `view` and `vote` return)."""

from __future__ import annotations

from dataclasses import replace

from workbench.records.responses import RetrievedSource
from workbench.web.arena import ArenaRound, blinded, view, vote
from workbench.web.arena_stream import Pane
from workbench.web.common import WebConfig

NAMES = {"A": "llamacpp-cpu", "B": "vllm-cpu"}


def _round(*, blind: bool, finished: bool = True) -> ArenaRound:
    done = 1.0 if finished else None
    panes = {
        "A": Pane(stack=NAMES["A"], started=0.0, text="Paris is the capital.",
                  finished_at=done, model="smollm2",
                  passages=(RetrievedSource(doc_id="france", chunk_id="france#0", rank=1,
                                            score=0.9, text="Paris is the capital of France."),)),
        "B": Pane(stack=NAMES["B"], started=0.0, text="", finished_at=done, model="smollm2",
                  error="vllm-cpu: HTTP 500 from http://127.0.0.1:9000/ask/stream"),
    }
    return ArenaRound(question="Capital of France?", space_id="demo-en", stacks=dict(NAMES),
                      left="B", blind=blind, gold="Paris", panes=panes)


def _shown(outputs: tuple[object, ...]) -> str:
    # Every output a browser receives (the round and the prepared set are gr.State: they
    # stay on the server).
    return "\n".join(str(x) for x in outputs if not isinstance(x, ArenaRound | frozenset))


def test_an_unvoted_blind_round_names_no_stack(tmp_path: object) -> None:
    for finished in (False, True):
        rnd = _round(blind=True, finished=finished)
        page = _shown(tuple(view(rnd, "Streaming... from vllm-cpu", frozenset())))
        for name in NAMES.values():
            assert name not in page
        assert "127.0.0.1:9000" not in page and "(a stack's URL)" in page
        assert "### Left" in page and "### Right" in page
    # The same round, open: names and the error as it was.
    open_page = _shown(tuple(view(_round(blind=False), "", frozenset())))
    assert "### Left: vllm-cpu" in open_page and "http://127.0.0.1:9000" in open_page


def test_the_names_appear_once_the_vote_is_cast(tmp_path: object) -> None:
    from pathlib import Path

    cfg = WebConfig(db=Path(str(tmp_path)) / "votes.db", semantic=False)
    rnd = _round(blind=True)
    status, left, right, after = vote(cfg, "left", rnd)
    assert after is not None and after.voted == "B"  # B was shown on the left
    assert left == "### Left: vllm-cpu" and right == "### Right: llamacpp-cpu"
    assert "vllm-cpu (B) is better" in status
    revealed = _shown(tuple(view(after, "", frozenset())))
    assert "http://127.0.0.1:9000" in revealed and "vllm-cpu: HTTP 500" in revealed


def test_blinded_hides_longer_names_first() -> None:
    rnd = replace(_round(blind=True), stacks={"A": "vllm-cpu", "B": "vllm-cpu-qwen05"})
    assert blinded(rnd, "vllm-cpu-qwen05 and vllm-cpu failed") == \
        "(a stack) and (a stack) failed"
