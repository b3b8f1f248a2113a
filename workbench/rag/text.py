"""Text helpers shared by chunking, BM25 and prompts: a Unicode-aware word tokenizer and a
script check that tells Russian questions from English ones."""

from __future__ import annotations

import re

# `\w` is Unicode-aware in Python 3, so Cyrillic, Latin and digits all form words.
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")
_LATIN_RE = re.compile(r"[A-Za-z]")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens for BM25 (Russian and English).

    `ё` is folded into `е`: Russian text writes both for the same letter, and a mismatch
    would silently zero a BM25 match.
    """
    return _WORD_RE.findall(text.lower().replace("ё", "е"))


def is_russian(text: str) -> bool:
    """True when Cyrillic letters outnumber Latin ones (picks the prompt language)."""
    cyr = len(_CYRILLIC_RE.findall(text))
    return cyr > 0 and cyr >= len(_LATIN_RE.findall(text))
