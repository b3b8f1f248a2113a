"""Checks on generated questions: the answer span is in the passage, no giveaways, no
duplicates; and the near-miss passages that unanswerable questions are drawn from.

Unanswerable questions are made the way SQuAD 2.0's adversarial ones read: a question is
written against a passage that is then held out of the corpus, so the corpus keeps only
its nearest neighbour by BM25 (the near-miss passage, on the same topic, without the
answer). The held-out answer is checked to appear in no corpus passage, so the question
really is unanswerable from the corpus, and the near-miss is its `source_doc_id`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.evalsets.builder.parsers import DocPassage
from workbench.rag.bm25 import BM25Index

_PUNCT = " \t\n.,;:!?\"'«»“”()[]"
_WORD = re.compile(r"\w+", re.UNICODE)
#: Two questions about one passage sharing this share of their words are one question.
NEAR_DUPLICATE_JACCARD = 0.8
#: Spans longer than this (words) are sentences, not answers.
MAX_ANSWER_WORDS = 12


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation dropped, whitespace collapsed (for comparisons)."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(_WORD.findall(folded))


def find_span(answer: str, passage: str) -> str | None:
    """The passage's own text of `answer` when it appears there (exactly, else ignoring
    case, spacing and surrounding punctuation), else None."""
    for candidate in dict.fromkeys((answer.strip(_PUNCT), answer.strip())):
        if not candidate:
            continue
        # Whole words only ("Tide" is not a span of "Tidewater"); the exact case first.
        pattern = r"\s+".join(re.escape(w) for w in candidate.split())
        for flags in (0, re.IGNORECASE):
            match = re.search(rf"(?<!\w){pattern}(?!\w)", passage, flags)
            if match:
                return match.group(0)
    return None


def span_problem(question: str, answer: str, passage: str) -> tuple[str | None, str | None]:
    """(span, None) for a usable pair, else (None, why it is refused)."""
    if len(answer.split()) > MAX_ANSWER_WORDS:
        return None, f"answer longer than {MAX_ANSWER_WORDS} words"
    span = find_span(answer, passage)
    if span is None:
        return None, "answer span not found in the passage"
    if normalise(span) and f" {normalise(span)} " in f" {normalise(question)} ":
        return None, "the question gives its answer away"
    if not question.rstrip().endswith(("?", "？")):
        return None, "not a question (no question mark)"
    return span, None


def in_any(span: str, passages: Iterable[DocPassage]) -> bool:
    """Whether `span` (normalised, as whole words) appears in any of the passages."""
    key = f" {normalise(span)} "
    return any(key in f" {normalise(p.text)} " for p in passages)


@dataclass(frozen=True)
class Duplicate:
    """A question removed as a repeat of an earlier one."""

    index: int
    of: int


def duplicates(questions: Sequence[tuple[str, str]]) -> list[Duplicate]:
    """Repeats among (passage id, question text) pairs, in order: the same normalised text
    anywhere, or near the same words (Jaccard >= `NEAR_DUPLICATE_JACCARD`) on one passage.
    The first of each group is kept."""
    seen: dict[str, int] = {}
    words: dict[str, list[tuple[set[str], int]]] = {}  # per passage: a few questions each
    out = []
    for i, (pid, text) in enumerate(questions):
        norm = normalise(text)
        if norm in seen:
            out.append(Duplicate(i, seen[norm]))
            continue
        tokens = set(norm.split())
        twin = next((j for w, j in words.get(pid, []) if tokens and
                     len(tokens & w) / len(tokens | w) >= NEAR_DUPLICATE_JACCARD), None)
        if twin is not None:
            out.append(Duplicate(i, twin))
            continue
        seen[norm] = i
        words.setdefault(pid, []).append((tokens, i))
    return out


@dataclass(frozen=True)
class NearMiss:
    """A passage held out of the corpus and its nearest neighbour that stays in."""

    held_out: DocPassage
    near_miss: DocPassage
    similarity: float
    """BM25 score of the neighbour for the held-out text, over the held-out's own score."""


def near_misses(passages: Sequence[DocPassage], share: float) -> list[NearMiss]:
    """About `share` of the passages to hold out, the ones with the closest BM25
    neighbour first; a neighbour is never itself held out, and at least two passages
    always stay in the corpus."""
    if share <= 0 or len(passages) < 3:
        return []
    want = min(max(1, round(share * len(passages))), len(passages) // 3)
    index = BM25Index([f"{p.title} {p.text}" for p in passages])
    ranked: list[tuple[float, int, int]] = []
    for i, p in enumerate(passages):
        scores = index.scores(p.text)
        own = float(scores[i])
        scores[i] = -np.inf
        j = int(np.argmax(scores))
        if own > 0 and scores[j] > 0:
            ranked.append((float(scores[j]) / own, i, j))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    held: set[int] = set()
    kept_as_neighbour: set[int] = set()
    out: list[NearMiss] = []
    for sim, i, j in ranked:
        if len(out) == want:
            break
        if i in kept_as_neighbour or i in held or j in held:
            continue
        held.add(i)
        kept_as_neighbour.add(j)
        out.append(NearMiss(passages[i], passages[j], sim))
    return out
