"""Pairwise judging: which of two stacks' answers to one question is better, asked in both
orders, so the judge's position bias shows (a judge that prefers "Answer 1" whatever it
says picks the baseline once and the candidate once).

A pair is decided only when both orders agree (same stack, or tie in both); otherwise it is
`inconsistent`, and when both orders picked the same position, it counts as position bias.
The judge sees the question and the gold (where there is one), not the contexts: the two
stacks may have retrieved different passages, and showing one would favour its stack.
Verdicts are cached like single-answer ones (their own prompt digest).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from workbench.scoring.base import Sample
from workbench.scoring.claims import PAIRWISE_SCHEMA
from workbench.scoring.judge import Judge
from workbench.store.verdicts import VerdictKey, digest

PAIRWISE_PROMPT = """Two assistants answered the same question. Which answer is better: more
correct (against the gold answer, when there is one), more to the point, and with no claims
that are false or made up? Judge the content only; the order of the answers means nothing.

Question: {question}
Gold answer(s): {gold}

Answer 1: {answer_1}

Answer 2: {answer_2}

Reply with JSON only: {{"better": "1" or "2" or "tie"}}"""

Choice = Literal["1", "2", "tie", ""]


@dataclass(frozen=True)
class PairVerdict:
    """Both orders' verdicts on one question: `shown` with the baseline as Answer 1,
    `swapped` with the candidate as Answer 1 ("" where unreadable)."""

    shown: Choice
    swapped: Choice

    @property
    def readable(self) -> bool:
        """Both orders gave a verdict."""
        return bool(self.shown and self.swapped)

    @property
    def winner(self) -> Literal["baseline", "candidate", "tie"] | None:
        """The decided winner, or None where the two orders disagree (or are unreadable)."""
        first = {"1": "baseline", "2": "candidate", "tie": "tie"}.get(self.shown)
        second = {"1": "candidate", "2": "baseline", "tie": "tie"}.get(self.swapped)
        return first if first is not None and first == second else None  # type: ignore[return-value]

    @property
    def position_bias(self) -> bool:
        """Both orders picked the same position (so different stacks): the order decided."""
        return self.shown == self.swapped and self.shown in ("1", "2")


def _choice(reply: str) -> Choice:
    match = re.search(r"\{.*?\}", reply, re.DOTALL)
    try:
        data = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        data = None
    value = str(data.get("better", "")) if isinstance(data, dict) else ""
    return value if value in ("1", "2", "tie") else ""  # type: ignore[return-value]


class PairwiseJudge:
    """Compares two answers to the same question with a `Judge`'s model, in both orders."""

    def __init__(self, judge: Judge, prompt: str = PAIRWISE_PROMPT) -> None:
        self.judge = judge
        self.prompt = prompt

    def _render(self, base: Sample, first: str, second: str) -> str:
        gold = Judge.gold(base)
        return self.prompt.format(question=base.question.question,
                                  gold="(not given)" if gold is None else gold,
                                  answer_1=first, answer_2=second)

    def _key(self, base: Sample, first: str, second: str) -> VerdictKey:
        j = self.judge
        return VerdictKey(judge=j.digest, prompt=digest(self.prompt + "\x1fjson_schema"),
                          item=digest(f"{base.question.question}\x1f{Judge.gold(base)}"),
                          context=digest(""), answer=digest(f"{first}\x1f{second}"))

    def _one(self, base: Sample, first: str, second: str) -> Choice:
        key = self._key(base, first, second)
        cache = self.judge.cache
        if cache is not None and (hit := cache.get_many([key]).get(key)) is not None:
            self.judge.stats.cache_hits += 1
            return _choice(f'{{"better": "{hit.get("better", "")}"}}')
        # why here: openai takes seconds to import
        from openai import OpenAIError

        try:
            choice = _choice(self.judge.chat(self._render(base, first, second),
                                             PAIRWISE_SCHEMA))
        except OpenAIError as exc:
            self.judge.stats.failures.append(f"{self.judge.base_url}: {exc}")
            return ""
        self.judge.stats.calls += 1
        if choice and cache is not None:
            try:
                cache.put_many([(key, {"better": choice})])
            except RuntimeError as exc:
                self.judge.stats.failures.append(f"verdicts not cached: {exc}")
        return choice

    def compare(self, baseline: Sample, candidate: Sample) -> PairVerdict:
        """Both orders' verdicts on two answers to the same question."""
        a, b = baseline.response.answer, candidate.response.answer
        return PairVerdict(self._one(baseline, a, b), self._one(baseline, b, a))


__all__ = ["PAIRWISE_PROMPT", "PairVerdict", "PairwiseJudge"]
