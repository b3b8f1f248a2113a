"""An optional LLM judge of correctness and faithfulness, through any OpenAI-compatible
endpoint (off by default: it costs a model call per answer and is itself a model's opinion).

The judge's model, endpoint and prompt text are exposed by `Judge.manifest()` so they go
into the run manifest: a judged score means nothing without them. Verdicts are cached per
answer, so the correctness and faithfulness scorers share one call per sample.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from workbench.scoring.base import Metric, Sample, Scorer

#: The instruction the judge receives (recorded in the manifest).
JUDGE_PROMPT = """You grade one answer from a retrieval-augmented assistant.

Question: {question}
Gold answer(s): {gold}
Retrieved context:
{context}

Answer to grade: {answer}

Decide two things:
- correct: the answer gives the same facts as a gold answer (wording may differ). If there
  is no gold answer, the question is unanswerable and only a refusal ("the documents do not
  say") is correct.
- faithful: every claim in the answer is supported by the retrieved context (a refusal is
  faithful).
Reply with JSON only: {{"correct": true or false, "faithful": true or false}}"""

_NO_GOLD = "(none: the documents do not contain the answer)"


@dataclass(frozen=True)
class Grade:
    """The judge's verdict on one answer (`None` where its reply could not be read)."""

    correct: bool | None
    faithful: bool | None


def parse_grade(reply: str) -> Grade:
    """Read the judge's JSON reply, tolerating code fences and text around it."""
    match = re.search(r"\{.*?\}", reply, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            def flag(key: str) -> bool | None:
                v = data.get(key)
                return v if isinstance(v, bool) else None
            return Grade(flag("correct"), flag("faithful"))
    # Fallback for judges that ignore the format: look for `"key": true/false`-like text.
    found = {k: re.search(rf"{k}\W+(true|false|yes|no)", reply, re.IGNORECASE)
             for k in ("correct", "faithful")}
    return Grade(*(None if m is None else m.group(1).lower() in ("true", "yes")
                   for m in found.values()))


class Judge:
    """An LLM judge reached through an OpenAI-compatible chat completions API."""

    def __init__(self, *, base_url: str, model: str, api_key: str = "not-needed",
                 prompt: str = JUDGE_PROMPT, max_workers: int = 4, timeout_s: float = 120.0,
                 max_context_chars: int = 6000) -> None:
        self.base_url = base_url
        self.model = model
        self.prompt = prompt
        self.max_workers = max_workers
        self.max_context_chars = max_context_chars
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._client: Any = None
        self._cache: dict[tuple[str, str, str, str], Grade] = {}

    def manifest(self) -> dict[str, str]:
        """What the run manifest records about the judge (never the API key)."""
        return {"model": self.model, "base_url": self.base_url, "prompt": self.prompt}

    def render(self, sample: Sample) -> str:
        """The prompt sent for one sample."""
        q, r = sample.question, sample.response
        context = "\n---\n".join(s.text for s in sorted(r.sources, key=lambda s: s.rank) if s.text)
        return self.prompt.format(
            question=q.question,
            gold=" | ".join(q.answers) if q.answerable and q.answers else _NO_GOLD,
            context=context[: self.max_context_chars] or "(none)",
            answer=r.answer,
        )

    def _ask(self, sample: Sample) -> Grade:
        if self._client is None:
            from openai import OpenAI  # lazily: only judged runs need a client

            self._client = OpenAI(base_url=self.base_url, api_key=self._api_key,
                                  timeout=self._timeout_s)
        reply = self._client.chat.completions.create(
            model=self.model, temperature=0, max_tokens=64,
            messages=[{"role": "user", "content": self.render(sample)}],
        )
        return parse_grade(reply.choices[0].message.content or "")

    def grade(self, samples: Sequence[Sample]) -> list[Grade]:
        """Grade every sample (failed requests are graded wrong without a call)."""
        def key(s: Sample) -> tuple[str, str, str, str]:
            return (s.response.run_id, s.response.question_id, s.response.stack, s.response.answer)

        todo = list({key(s): s for s in samples if s.ok and key(s) not in self._cache}.values())
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            for s, g in zip(todo, pool.map(self._ask, todo), strict=True):
                self._cache[key(s)] = g
        return [self._cache[key(s)] if s.ok else Grade(False, False) for s in samples]


@dataclass(frozen=True)
class _JudgeScorer:
    metric: Metric
    judge: Judge
    field: str

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        values = [getattr(g, self.field) for g in self.judge.grade(samples)]
        return [None if v is None else float(v) for v in values]


def judge_correctness(judge: Judge) -> Scorer:
    """Share of answers the judge finds correct."""
    metric = Metric("judge_correct", "Judge: correct", "quality",
                    f"LLM judge ({judge.model}) finds the answer matches the gold", binary=True)
    return _JudgeScorer(metric, judge, "correct")


def judge_faithfulness(judge: Judge) -> Scorer:
    """Share of answers the judge finds supported by the retrieved context."""
    metric = Metric("judge_faithful", "Judge: faithful", "quality",
                    f"LLM judge ({judge.model}) finds every claim supported by the retrieved "
                    "context", binary=True)
    return _JudgeScorer(metric, judge, "faithful")


__all__ = ["JUDGE_PROMPT", "Grade", "Judge", "judge_correctness", "judge_faithfulness",
           "parse_grade"]
