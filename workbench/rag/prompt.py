"""Prompts: Russian and English templates, retrieved chunks packed under a token budget.

Tokens are estimated, not counted: a call to the engine's tokenizer per request would cost
a round trip. The estimate is deliberately pessimistic, calibrated on SmolLM2's tokenizer
against llama.cpp's POST /tokenize over XQuAD passages (measured: English ~0.22 tokens per
character, worst passage 0.29; Russian Cyrillic ~0.85, worst passage 0.91, short questions
up to ~1.1; digits one token each). Over-estimating wastes
a little context; under-estimating would overflow the engine's window and fail the request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from workbench.rag.chunking import Chunk
from workbench.rag.text import is_russian

Lang = Literal["en", "ru"]

ASCII_TOKENS_PER_CHAR = 0.30
OTHER_TOKENS_PER_CHAR = 1.2  # short Russian strings reach ~1.1; passages ~0.85
#: Chat-template tokens around the messages (role markers, BOS/EOS): a generous allowance.
CHAT_OVERHEAD_TOKENS = 24
#: A chunk is cut to fit the remaining budget only when at least this much room is left.
MIN_PARTIAL_TOKENS = 48

SYSTEM = {
    "en": (
        "You answer questions using only the context below. Answer briefly: a few words or "
        "one sentence. If the context does not contain the answer, reply exactly: I don't know."
    ),
    "ru": (
        "Ты отвечаешь на вопросы, используя только приведённый ниже контекст. Отвечай кратко: "
        "несколько слов или одно предложение. Если в контексте нет ответа, ответь ровно: "
        "Не знаю."
    ),
}
USER = {
    "en": "Context:\n{context}\n\nQuestion: {question}\nAnswer:",
    "ru": "Контекст:\n{context}\n\nВопрос: {question}\nОтвет:",
}
#: What the model is told to say when the context lacks the answer.
REFUSAL = {"en": "I don't know", "ru": "Не знаю"}


def estimate_tokens(text: str) -> int:
    """A pessimistic token count for `text` (see the module docstring)."""
    digits = sum(1 for c in text if "0" <= c <= "9")  # one token each in Llama-style BPEs
    ascii_chars = sum(1 for c in text if c < "\x80") - digits
    other = len(text) - ascii_chars - digits
    return math.ceil(digits + ascii_chars * ASCII_TOKENS_PER_CHAR + other * OTHER_TOKENS_PER_CHAR)


def choose_lang(setting: str, question: str) -> Lang:
    """The template language: the recipe's, or by the question's script when `auto`."""
    if setting == "ru":
        return "ru"
    if setting == "en":
        return "en"
    return "ru" if is_russian(question) else "en"


@dataclass(frozen=True)
class Prompt:
    """Chat messages for the engine and what went into them."""

    messages: list[dict[str, str]]
    lang: Lang
    included: int = 0
    context_tokens: int = 0
    prompt_tokens_estimate: int = 0


def _format_chunk(n: int, chunk: Chunk, text: str) -> str:
    head = f"[{n}] {chunk.title}".rstrip()
    return f"{head}\n{text}"


def _cut(text: str, budget: int) -> str:
    # Drop characters from the end until the estimate fits; cut back to a word boundary.
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if estimate_tokens(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    return (cut[:space] if space > len(cut) // 2 else cut).rstrip() + " …"


def build_prompt(
    question: str,
    chunks: Sequence[Chunk],
    context_window: int,
    max_tokens: int,
    lang_setting: str = "auto",
) -> Prompt:
    """Messages with as many chunks (in rank order) as fit in the window.

    Budget = context_window - max_tokens - template and question - chat overhead. The
    first chunk that does not fit is cut to the room left (if that is worth it); later
    ones are dropped.
    """
    lang = choose_lang(lang_setting, question)
    system = SYSTEM[lang]
    frame = USER[lang].format(context="", question=question)
    fixed = estimate_tokens(system) + estimate_tokens(frame) + CHAT_OVERHEAD_TOKENS
    budget = context_window - max_tokens - fixed
    parts: list[str] = []
    used = 0
    for chunk in chunks:
        piece = _format_chunk(len(parts) + 1, chunk, chunk.text)
        cost = estimate_tokens(piece) + 1  # + the blank line between chunks
        if used + cost <= budget:
            parts.append(piece)
            used += cost
            continue
        room = budget - used - 1 - estimate_tokens(_format_chunk(len(parts) + 1, chunk, ""))
        if room >= MIN_PARTIAL_TOKENS:
            piece = _format_chunk(len(parts) + 1, chunk, _cut(chunk.text, room))
            parts.append(piece)
            used += estimate_tokens(piece) + 1
        break
    user = USER[lang].format(context="\n\n".join(parts), question=question)
    return Prompt(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        lang=lang,
        included=len(parts),
        context_tokens=used,
        prompt_tokens_estimate=fixed + used,
    )


def fixed_tokens(question: str, lang_setting: str = "auto") -> int:
    """Prompt tokens that do not depend on the context (template, question, overhead)."""
    lang = choose_lang(lang_setting, question)
    frame = USER[lang].format(context="", question=question)
    return estimate_tokens(SYSTEM[lang]) + estimate_tokens(frame) + CHAT_OVERHEAD_TOKENS
