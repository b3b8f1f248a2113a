"""Detecting a refusal ("the documents do not say") in English and Russian answers.

The patterns are matched on a lightly normalised answer (NFKC, casefold, `ё` -> `е`,
typographic apostrophes folded to `'`). An empty answer counts as a refusal, following
SQuAD 2.0's convention that an empty prediction means "no answer".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_EN = [
    r"\bi (?:do not|don't|dont) know\b",
    r"\bi (?:do not|don't|dont) have (?:enough |sufficient |any )?(?:information|context|data)",
    r"\bi(?: am|'m) not sure\b",
    r"\bnot (?:mentioned|provided|found|present|available|stated|included|specified|given|"
    r"covered|contained|answered)\b.{0,40}\b(?:context|documents?|text|passages?|sources?)\b",
    r"\bnot (?:in|part of|found in|covered by) the (?:given |provided )?(?:context|documents?|"
    r"text|passages?|sources?)\b",
    r"\b(?:context|documents?|text|passages?|sources?) (?:does|do|did) not (?:contain|mention|"
    r"provide|say|include|specify|state|give|answer|have)",
    r"\b(?:context|documents?|text|passages?|sources?) (?:doesn't|don't) (?:contain|mention|"
    r"provide|say|include|specify|state|give|answer|have)",
    r"\bno (?:relevant )?(?:information|mention|details?|data)\b.{0,30}\b(?:about|of|on|"
    r"regarding|in the)\b",
    r"\b(?:cannot|can't|can not|unable to|could not|couldn't) (?:be )?(?:answer|determine|find|"
    r"provide|tell)",
    r"\b(?:not enough|insufficient) (?:information|context|data)\b",
    r"\bthere is no (?:answer|information)\b",
    r"^\s*(?:unknown|n/a|no answer)\W*$",
]
_RU = [
    r"\bне знаю\b",
    r"\b(?:в|из) (?:предоставленн\w+ |данн\w+ |этом |приведенн\w+ )?(?:контекст\w*|документ\w*|"
    r"текст\w*|источник\w*|фрагмент\w*)\b.{0,20}\b(?:нет|не (?:указан\w*|упомина\w+|содерж\w+|"
    r"сказано|говорится|приводится|описыва\w+))",
    r"\bнет (?:никакой )?(?:информации|данных|сведений|ответа|упоминани\w+)\b",
    r"\bне (?:могу|можем|удается|удалось|получается) (?:\w+ )?(?:ответить|найти|определить|"
    r"сказать|дать ответ)",
    r"\b(?:недостаточно|не хватает) (?:информации|данных|сведений|контекста)\b",
    r"\bинформаци\w* .{0,40}\b(?:отсутству\w+|нет)\b",
    r"\bне (?:указан\w*|упоминается|содержится|сказано|говорится) в (?:контекст|документ|"
    r"текст|источник)",
    r"\bответа нет\b",
    r"\bнеизвестно\b",
]
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in _EN + _RU))


@lru_cache(maxsize=65536)  # every answer scorer asks about the same answers
def is_refusal(answer: str) -> bool:
    """Whether the answer declines to answer (see the module docstring)."""
    text = unicodedata.normalize("NFKC", answer).casefold().replace("ё", "е")
    text = text.replace("\u2019", "'").replace("`", "'")
    return not text.strip() or _REFUSAL.search(text) is not None
