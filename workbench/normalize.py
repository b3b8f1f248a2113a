"""Answer normalisation for exact match and token F1: SQuAD's recipe, made Unicode- and
Russian-aware. It imports nothing else of the workbench (floor 1, docs/architecture.md), so
the scorers (`scoring.answer`), the arena and the engine tuning probe's check that two
settings answer alike (`stacks.tuning_choice.answers_agree`) share one normalisation.

Steps, in order (`normalize_tokens`):
1. Unicode NFKC (full-width and compatibility forms fold to plain ones), then `casefold`.
2. `ё` -> `е` (Russian texts write both; they are the same letter for matching).
3. Punctuation and symbols (Unicode categories P* and S*) are removed, as SQuAD removes
   ASCII punctuation, so "1,000" == "1000" and "U.S." == "US".
4. Whitespace tokenisation; the English articles `a`, `an`, `the` are dropped (SQuAD).
5. With `stem=True`, a light Russian suffix stemmer (`stem_ru`) is applied to tokens that
   contain Cyrillic letters, so inflected answers match their gold form:
   "Москве", "Москвой" and "Москва" all become "москв". Latin tokens are untouched, so
   English scores equal SQuAD's.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

_ARTICLES = frozenset({"a", "an", "the"})
_CYRILLIC = re.compile(r"[а-я]")
# Inflectional endings of Russian nouns, adjectives, participles and verbs, longest first so
# "красной" loses "ой", not just "й". Derivational suffixes are kept: this is a light stemmer
# for matching an answer to its gold form, not a linguistic one.
_RU_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        {
            "иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "ией",
            "ах", "ях", "ам", "ям", "ом", "ем", "ой", "ей", "ий", "ый", "ая", "яя", "ое",
            "ее", "ые", "ие", "ых", "их", "ую", "юю", "ов", "ев", "ью", "ия", "ии",
            "а", "я", "о", "е", "ы", "и", "у", "ю", "ь", "й",
        },
        key=len,
        reverse=True,
    )
)
#: Stems never get shorter than this, so short words ("дом", "год") survive intact.
MIN_STEM = 3


_ENDINGS_BY_LENGTH = tuple(
    (n, frozenset(e for e in _RU_ENDINGS if len(e) == n))
    for n in sorted({len(e) for e in _RU_ENDINGS}, reverse=True)
)


def stem_ru(token: str) -> str:
    """Strip one Russian inflectional ending, keeping at least `MIN_STEM` characters."""
    for n, endings in _ENDINGS_BY_LENGTH:
        if len(token) - n >= MIN_STEM and token[-n:] in endings:
            return token[:-n]
    return token


# Deleting through `str.translate` is ~20x faster than a per-character category check; the
# table covers the Basic Multilingual Plane, and rarer characters take the slow path.
_PUNCT_TABLE = {
    cp: None for cp in range(0x10000) if unicodedata.category(chr(cp))[0] in "PS"
}


def _strip_punctuation(text: str) -> str:
    text = text.translate(_PUNCT_TABLE)
    if text.isascii() or max(text) < "\U00010000":
        return text
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")


@lru_cache(maxsize=65536)
def normalize_tokens(text: str, stem: bool = True) -> tuple[str, ...]:
    """The answer's normalised tokens (see the module docstring for the steps)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    tokens = [t for t in _strip_punctuation(text).split() if t not in _ARTICLES]
    if stem:
        tokens = [stem_ru(t) if _CYRILLIC.search(t) else t for t in tokens]
    return tuple(tokens)


def normalize_answer(text: str, stem: bool = True) -> str:
    """The normalised answer as one space-joined string (what exact match compares)."""
    return " ".join(normalize_tokens(text, stem))


def exact_match_score(answer: str, golds: list[str], stem: bool = True) -> float:
    """1.0 when the normalised answer equals some normalised gold alias, else 0.0."""
    pred = normalize_tokens(answer, stem)
    return float(any(pred == normalize_tokens(g, stem) for g in golds))


def f1_score(answer: str, golds: list[str], stem: bool = True) -> float:
    """SQuAD token F1 of the answer against its best gold alias (0.0 without golds)."""
    pred = normalize_tokens(answer, stem)
    best = 0.0
    for gold in golds:
        ref = normalize_tokens(gold, stem)
        if not pred or not ref:
            # SQuAD: two empty token lists agree; one empty list scores zero.
            best = max(best, float(pred == ref))
            continue
        same = sum((Counter(pred) & Counter(ref)).values())
        if same:
            precision, recall = same / len(pred), same / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_gold(answer: str, golds: list[str], stem: bool = True) -> float:
    """1.0 when some normalised gold alias appears in the normalised answer as a run of
    whole tokens (so gold "1" is not found inside "1812"), else 0.0."""
    pred = normalize_tokens(answer, stem)
    for gold in golds:
        ref = normalize_tokens(gold, stem)
        if ref and any(pred[i : i + len(ref)] == ref for i in range(len(pred) - len(ref) + 1)):
            return 1.0
    return 0.0
