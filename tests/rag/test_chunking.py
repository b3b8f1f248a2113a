"""Chunking: sizes, overlap, boundaries, ids."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.rag.chunking import chunk_passage, split_text


def test_short_text_is_one_chunk() -> None:
    chunks = chunk_passage("d1", "  Hello   world. ", 100, 10, title="T", doc_type="x")
    assert [(c.chunk_id, c.text, c.title, c.doc_type) for c in chunks] == [
        ("d1#0", "Hello world.", "T", "x")
    ]


def test_splits_on_sentence_boundaries_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    pieces = split_text(text, 120, 30)
    assert len(pieces) > 3
    assert all(len(p) <= 120 for p in pieces)
    assert all(p.endswith(".") for p in pieces[:-1])  # cut at sentence ends
    for a, b in itertools.pairwise(pieces):
        assert b.split()[0] in a.split()  # the overlap starts on a whole word of `a`
    # Every word of the text is in some chunk.
    assert set(text.split()) <= set(" ".join(pieces).split())


def test_russian_words_are_not_cut() -> None:
    text = "Байкал самое глубокое озеро планеты и крупнейший резервуар пресной воды " * 10
    pieces = split_text(text, 100, 20)
    words = set(text.split())
    for p in pieces:
        assert set(p.split()) <= words


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="overlap"):
        split_text("abc", 10, 10)


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab cд. \n!"), min_size=0, max_size=600),
    st.integers(20, 120),
    st.integers(0, 19),
)
def test_chunks_cover_text_and_respect_size(text: str, size: int, overlap: int) -> None:
    pieces = split_text(text, size, overlap)
    assert all(0 < len(p) <= size for p in pieces)
    # Nothing is lost: every word that fits in a chunk appears whole in some chunk.
    for word in text.split():
        if len(word) <= size:
            assert any(word in p for p in pieces), word
