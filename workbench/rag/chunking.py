"""Split passages into overlapping chunks of about `chunk_size` characters.

Chunks end on a sentence boundary when one lies in the last part of the window, else on
whitespace, and never cut a word unless a single word is longer than the window. Every
chunk remembers the passage it came from and its index within it, because gold ids are
passage ids: a retrieved chunk counts as a hit for its passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ends: ., !, ?, … (optionally followed by quotes/brackets) then whitespace.
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'»”)\]]*\s+")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of one passage, as indexed and retrieved."""

    doc_id: str
    chunk_index: int
    text: str
    title: str = ""
    doc_type: str | None = None

    @property
    def chunk_id(self) -> str:
        """`<doc_id>#<chunk_index>` (the API's chunk id)."""
        return f"{self.doc_id}#{self.chunk_index}"


def split_text(text: str, size: int, overlap: int) -> list[str]:
    """Split `text` into pieces of at most `size` characters sharing about `overlap`.

    Only the last half of a window is searched for a boundary, so chunks stay close to
    `size` (a boundary right at the start would produce tiny chunks).
    """
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError(f"chunk size {size} / overlap {overlap}: need 0 <= overlap < size")
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) <= size:
        return [text] if text else []
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            end = _boundary(text, start, end)
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        if end >= len(text):
            break
        # Step back by `overlap`, then forward to a word start so no chunk begins mid-word.
        nxt = max(end - overlap, start + 1)
        if nxt < end:
            space = text.find(" ", nxt, end)
            nxt = space + 1 if space != -1 else end
        start = nxt
    return pieces


def _boundary(text: str, start: int, end: int) -> int:
    """Best cut position in `text[start:end]`: sentence end, else whitespace, else `end`."""
    floor = start + (end - start) // 2
    window = text[floor:end]
    last_sentence = None
    for m in _SENTENCE_END_RE.finditer(window):
        last_sentence = m
    if last_sentence is not None:
        return floor + last_sentence.end()
    # Cut at a space only if the next character starts a word (the window end is mid-word).
    space = text.rfind(" ", floor, end + 1)
    if space != -1:
        return space + 1
    return end


def chunk_passage(
    doc_id: str,
    text: str,
    size: int,
    overlap: int,
    title: str = "",
    doc_type: str | None = None,
) -> list[Chunk]:
    """Chunks of one passage, numbered from 0."""
    return [
        Chunk(doc_id=doc_id, chunk_index=i, text=piece, title=title, doc_type=doc_type)
        for i, piece in enumerate(split_text(text, size, overlap))
    ]
