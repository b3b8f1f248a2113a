"""Checks on generated questions: answer spans, giveaways, duplicates, near misses."""

from __future__ import annotations

from pathlib import Path

from tests.evalsets.build_docs import docs_folder
from workbench.evalsets.builder.build import read_passages
from workbench.evalsets.builder.parsers import DocPassage
from workbench.evalsets.builder.questions import (
    duplicates,
    find_span,
    in_any,
    near_misses,
    span_problem,
)

PASSAGE = ("The company VPN is called Tidewater. If the connection drops every few minutes, "
           "set the MTU to 1320 in the client's advanced settings.")


def test_span_is_the_passage_own_text() -> None:
    assert find_span("Tidewater", PASSAGE) == "Tidewater"
    assert find_span("tidewater.", PASSAGE) == "Tidewater"  # case and punctuation
    assert find_span("the  MTU to\n1320", PASSAGE) == "the MTU to 1320"  # spacing
    assert find_span("Tide", PASSAGE) is None  # not a whole word
    assert find_span("Harbour", PASSAGE) is None
    assert find_span("  ", PASSAGE) is None


def test_span_problems_have_reasons() -> None:
    ok = span_problem("What is the company VPN called?", "Tidewater", PASSAGE)
    assert ok == ("Tidewater", None)
    assert span_problem("Which VPN is Tidewater?", "Tidewater", PASSAGE)[1] == \
        "the question gives its answer away"
    assert span_problem("What is the VPN called?", "Keelhaul", PASSAGE)[1] == \
        "answer span not found in the passage"
    long = "If the connection drops every few minutes, set the MTU to 1320 in the client's"
    assert span_problem("What to do?", long, PASSAGE)[1] == "answer longer than 12 words"
    assert span_problem("Name the VPN", "Tidewater", PASSAGE)[1] == \
        "not a question (no question mark)"


def test_duplicates_same_text_anywhere_and_near_text_on_one_passage() -> None:
    qs = [
        ("p1", "What is the company VPN called?"),
        ("p2", "what is the company VPN called"),          # same text, other passage
        ("p1", "What is the company's VPN called?"),       # near, same passage
        ("p2", "What is the company's VPN called today?"),  # near, but other passage
        ("p1", "Which MTU fixes dropped connections?"),
    ]
    found = {(d.index, d.of) for d in duplicates(qs)}
    assert found == {(1, 0), (2, 0)}


def test_in_any_matches_whole_words_only() -> None:
    ps = [DocPassage("a", "", "Set the MTU to 1320.", "x"), DocPassage("b", "", "Gate 7", "x")]
    assert in_any("mtu to 1320", ps) and not in_any("132", ps) and not in_any("Gate 70", ps)


def test_near_misses_hold_out_passages_whose_neighbour_shares_their_topic(
        tmp_path: Path) -> None:
    passages, _, _ = read_passages(docs_folder(tmp_path), 300)
    pairs = near_misses(passages, share=0.25)
    assert len(pairs) == round(0.25 * len(passages))
    held = {m.held_out.id for m in pairs}
    for m in pairs:
        assert m.near_miss.id not in held and m.near_miss.id != m.held_out.id
        assert 0 < m.similarity < 1
    # The leave policy's passages are each other's nearest neighbours.
    by_held = {m.held_out.id: m.near_miss.id for m in pairs}
    leave = [h for h in by_held if h.startswith("leave-policy")]
    assert leave and all(by_held[h].startswith("leave-policy") for h in leave)
    assert near_misses(passages, share=0) == [] and near_misses(passages[:2], 0.5) == []
    assert len(near_misses(passages, share=0.5)) <= len(passages) // 3
