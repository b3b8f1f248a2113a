"""An LLM judge of correctness, claim-level faithfulness and answer relevance, through any
OpenAI-compatible endpoint (an external one by URL, or a packaged model on a local
llama.cpp: `workbench.scoring.local_judge`). Off by default: each judged answer costs a
model call, and a judged score is itself a model's opinion.

- One call per answer gives three verdicts: `correct` (against the gold, where gold
  exists), `relevant` (it addresses the question) and one `supported` verdict per claim
  (`workbench.scoring.claims` splits the answer); faithfulness is the supported share.
  The reply is constrained by a JSON schema (`response_format: json_schema`, which
  llama-server turns into a grammar), so a small judge cannot wander off the format.
- It judges a seeded random sample of questions (50 by default), the same questions for
  every stack, so judged scores stay paired.
- Every verdict is cached by (judge digest, prompt, item, context, answer): in memory, and
  in the results database when a `VerdictCache` is given (`workbench.store.verdicts`).
- `Judge.manifest()` is what the run manifest records: model, digest, prompt, sample.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench.scoring.base import Metric, Sample, Scorer
from workbench.scoring.claims import numbered, split_claims, verdict_schema
from workbench.store.verdicts import VerdictKey, digest

#: The instruction the judge receives (recorded in the manifest).
JUDGE_PROMPT = """You grade one answer from a retrieval-augmented assistant.

Question: {question}
Gold answer(s): {gold}
Retrieved context:
{context}

Answer to grade: {answer}

Claims in the answer:
{claims}

Decide:
- correct: the answer gives the same facts as a gold answer (wording may differ). If there
  is no gold answer, the question is unanswerable and only a refusal ("the documents do not
  say") is correct. Leave it out when the gold is not given.
- relevant: the answer addresses the question that was asked (a refusal is relevant).
- supported: for each numbered claim, in order, true when the retrieved context states or
  directly implies it, false when the context does not say it or says otherwise.
Reply with JSON only:
{{"correct": true or false, "relevant": true or false, "supported": [true or false, ...]}}"""

_NO_GOLD = "(none: the documents do not contain the answer)"
_GOLD_UNKNOWN = "(not given)"
#: Default sample: answers judged per stack.
DEFAULT_SAMPLE = 50
DEFAULT_SEED = 20240521


class VerdictCache(Protocol):
    """Where verdicts outlive the process (`workbench.store.verdicts.VerdictStore`)."""

    def get_many(self, keys: Sequence[VerdictKey]) -> dict[VerdictKey, dict[str, Any]]:
        """Stored verdicts of those keys that have one."""
        ...

    def put_many(self, items: Sequence[tuple[VerdictKey, dict[str, Any]]]) -> None:
        """Store verdicts."""
        ...


@dataclass(frozen=True)
class Grade:
    """The judge's verdict on one answer (`None` where it was not judged or unreadable)."""

    correct: bool | None
    faithful: bool | None
    """Every claim is supported (a refusal claims nothing: faithful)."""
    relevant: bool | None = None
    supported: tuple[bool, ...] = ()
    """One verdict per claim, in the order of `claims`."""
    claims: tuple[str, ...] = ()

    @property
    def faithfulness(self) -> float | None:
        """The supported share of the claims (1.0 for a faithful answer without claims)."""
        if self.supported:
            return sum(self.supported) / len(self.supported)
        return None if self.faithful is None else float(self.faithful)

    @property
    def readable(self) -> bool:
        """The judge's reply gave at least one verdict (unreadable replies are not cached)."""
        return any(v is not None for v in (self.correct, self.faithful, self.relevant))

    def to_json(self) -> dict[str, Any]:
        """The verdict as stored in the cache."""
        return {"correct": self.correct, "faithful": self.faithful, "relevant": self.relevant,
                "supported": list(self.supported), "claims": list(self.claims)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grade:
        """A verdict read back from the cache."""
        return cls(data.get("correct"), data.get("faithful"), data.get("relevant"),
                   tuple(data.get("supported") or ()), tuple(data.get("claims") or ()))


NOT_JUDGED = Grade(None, None)
#: A failed request is graded wrong, unfaithful and irrelevant without a call.
FAILED = Grade(False, False, False)


def _flag(data: dict[str, Any], key: str) -> bool | None:
    v = data.get(key)
    return v if isinstance(v, bool) else None


def parse_grade(reply: str, claims: Sequence[str] | None = None) -> Grade:
    """Read the judge's JSON reply, tolerating code fences and text around it.

    With `claims` (the claim-level prompt), `supported` must hold one boolean per claim and
    `faithful` is derived from it; without, `faithful` is read as a flag (older judges)."""
    data: Any = None
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            inner = re.search(r"\{.*?\}", reply, re.DOTALL)
            try:
                data = json.loads(inner.group(0)) if inner else None
            except json.JSONDecodeError:
                data = None
    if isinstance(data, dict):
        correct, relevant = _flag(data, "correct"), _flag(data, "relevant")
        if claims is None:
            return Grade(correct, _flag(data, "faithful"), relevant)
        said = data.get("supported")
        supported: tuple[bool, ...] = ()
        if isinstance(said, list) and len(said) == len(claims) \
                and all(isinstance(v, bool) for v in said):
            supported = tuple(said)
        faithful = (all(supported) if supported else True if not claims
                    else _flag(data, "faithful"))
        return Grade(correct, faithful, relevant, supported, tuple(claims))
    # Fallback for judges that ignore the format: look for `"key": true/false`-like text.
    found = {k: re.search(rf"{k}\W+(true|false|yes|no)", reply, re.IGNORECASE)
             for k in ("correct", "faithful", "relevant")}
    flags = [None if m is None else m.group(1).lower() in ("true", "yes")
             for m in found.values()]
    return Grade(flags[0], flags[1], flags[2], (), tuple(claims or ()))


@dataclass
class JudgeStats:
    """What the judge did in this process (shown in reports and benchmarks)."""

    calls: int = 0
    cache_hits: int = 0
    failures: list[str] = field(default_factory=list)


class Judge:
    """An LLM judge reached through an OpenAI-compatible chat completions API."""

    def __init__(self, *, base_url: str, model: str, api_key: str = "not-needed",
                 prompt: str = JUDGE_PROMPT, digest_of_model: str | None = None,
                 kind: str = "endpoint", sample: int | None = DEFAULT_SAMPLE,
                 seed: int = DEFAULT_SEED, cache: VerdictCache | None = None,
                 structured: bool = True, max_workers: int = 4, timeout_s: float = 300.0,
                 max_context_chars: int = 6000, max_tokens: int = 96) -> None:
        self.base_url = base_url
        self.model = model
        self.prompt = prompt
        self.kind = kind
        #: The judge's identity in cache keys: the model file's sha256 where known.
        self.digest = digest_of_model or digest(f"{model}@{base_url}")
        self.sample = sample
        self.seed = seed
        self.cache = cache
        self.structured = structured
        self.max_workers = max_workers
        self.max_context_chars = max_context_chars
        self.max_tokens = max_tokens
        self.stats = JudgeStats()
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._client: Any = None
        self._memo: dict[VerdictKey, Grade] = {}

    @property
    def prompt_digest(self) -> str:
        """sha256 of the prompt template (and the output constraint)."""
        return digest(self.prompt + ("\x1fjson_schema" if self.structured else ""))

    def manifest(self) -> dict[str, Any]:
        """What the run manifest records about the judge (never the API key)."""
        return {"kind": self.kind, "model": self.model, "digest": self.digest,
                "base_url": self.base_url, "prompt": self.prompt,
                "prompt_digest": self.prompt_digest,
                "sample": self.sample, "seed": self.seed,
                "max_context_chars": self.max_context_chars,
                "output": "json_schema" if self.structured else "free text"}

    # --- one answer ---------------------------------------------------------------------
    def context(self, sample: Sample) -> str:
        """The retrieved context as sent (ranked, truncated to `max_context_chars`)."""
        r = sample.response
        text = "\n---\n".join(s.text for s in sorted(r.sources, key=lambda s: s.rank) if s.text)
        return text[: self.max_context_chars] or "(none)"

    @staticmethod
    def gold(sample: Sample) -> str | None:
        """The gold as the prompt states it; None where the set gives none (questions-only
        sets): correctness is then not judged."""
        q = sample.question
        if not q.answerable:
            return _NO_GOLD
        return " | ".join(q.answers) if q.answers else None

    def render(self, sample: Sample) -> str:
        """The prompt sent for one sample."""
        gold = self.gold(sample)
        return self.prompt.format(
            question=sample.question.question, gold=_GOLD_UNKNOWN if gold is None else gold,
            context=self.context(sample), answer=sample.response.answer,
            claims=numbered(split_claims(sample.response.answer)),
        )

    def key(self, sample: Sample) -> VerdictKey:
        """The cache key of a sample's verdict."""
        return VerdictKey(judge=self.digest, prompt=self.prompt_digest,
                          item=digest(f"{sample.question.question}\x1f{self.gold(sample)}"),
                          context=digest(self.context(sample)),
                          answer=digest(sample.response.answer))

    def chat(self, prompt: str, schema: dict[str, Any] | None) -> str:
        """One chat completion at temperature 0 (schema-constrained when `structured`)."""
        if self._client is None:
            from openai import OpenAI  # lazily: only judged runs need a client

            self._client = OpenAI(base_url=self.base_url, api_key=self._api_key,
                                  timeout=self._timeout_s, max_retries=1)
        extra: dict[str, Any] = {}
        if self.structured and schema is not None:
            extra["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "verdict", "strict": True, "schema": schema}}
        reply = self._client.chat.completions.create(
            model=self.model, temperature=0, max_tokens=self.max_tokens,
            messages=[{"role": "user", "content": prompt}], **extra,
        )
        return str(reply.choices[0].message.content or "")

    def _ask(self, sample: Sample) -> Grade:
        # why here: openai takes seconds to import
        from openai import OpenAIError

        claims = split_claims(sample.response.answer)
        schema = verdict_schema(len(claims), with_gold=self.gold(sample) is not None)
        try:
            reply = self.chat(self.render(sample), schema)
        except OpenAIError as exc:
            self.stats.failures.append(f"{self.base_url}: {type(exc).__name__}: {exc}")
            return Grade(None, None, None, (), tuple(claims))
        grade = parse_grade(reply, claims)
        if self.gold(sample) is None:
            grade = Grade(None, grade.faithful, grade.relevant, grade.supported, grade.claims)
        return grade

    # --- a batch ------------------------------------------------------------------------
    def sampled(self, samples: Sequence[Sample]) -> set[str] | None:
        """The question ids judged (seeded, the same for every stack), or None for all."""
        ids = sorted({s.question.id for s in samples})
        if self.sample is None or len(ids) <= self.sample:
            return None
        # A reproducible sample, not a secret: the seed is in the manifest.
        return set(random.Random(self.seed).sample(ids, self.sample))  # noqa: S311

    def grade(self, samples: Sequence[Sample]) -> list[Grade]:
        """Grade the sampled questions' answers (others are `NOT_JUDGED`; failed requests
        are graded wrong without a call), reusing every cached verdict."""
        chosen = self.sampled(samples)
        keys: list[VerdictKey | None] = []
        todo: dict[VerdictKey, Sample] = {}
        for s in samples:
            if (chosen is not None and s.question.id not in chosen) or not s.ok:
                keys.append(None)
                continue
            k = self.key(s)
            keys.append(k)
            if k not in self._memo:
                todo[k] = s
        if todo and self.cache is not None:
            for k, v in self.cache.get_many(list(todo)).items():
                self._memo[k] = Grade.from_json(v)
                self.stats.cache_hits += 1
                del todo[k]
        if todo:
            with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
                for k, g in zip(todo, pool.map(self._ask, todo.values()), strict=True):
                    self._memo[k] = g
            self.stats.calls += len(todo)
            self._remember([(k, self._memo[k].to_json()) for k in todo if self._memo[k].readable])
        out = []
        for s, key in zip(samples, keys, strict=True):
            if key is not None:
                out.append(self._memo[key])
            else:
                out.append(FAILED if not s.ok and (chosen is None or s.question.id in chosen)
                           else NOT_JUDGED)
        return out

    def _remember(self, items: list[tuple[VerdictKey, dict[str, Any]]]) -> None:
        if self.cache is None or not items:
            return
        try:
            self.cache.put_many(items)
        except RuntimeError as exc:  # StoreError: a read-only store still gets its report
            self.stats.failures.append(f"verdicts not cached: {exc}")


@dataclass(frozen=True)
class _JudgeScorer:
    metric: Metric
    judge: Judge
    field: str
    claims_only: bool = False
    """Score only successful answers that make a claim: a refusal claims nothing, and
    scoring it 1.0 let an always-refusing stack pass `faithfulness>=0.8` (its refusals and
    failures are counted beside faithfulness instead, `report.faithfulness`)."""

    def __call__(self, samples: Sequence[Sample]) -> list[float | None]:
        values = [getattr(g, self.field) for g in self.judge.grade(samples)]
        if self.claims_only:
            values = [v if s.ok and split_claims(s.response.answer) else None
                      for s, v in zip(samples, values, strict=True)]
        return [None if v is None else float(v) for v in values]


def _sampled(judge: Judge) -> str:
    return f" (a seeded sample of {judge.sample} questions)" if judge.sample else ""


def judge_correctness(judge: Judge) -> Scorer:
    """Share of answers the judge finds correct (where gold exists)."""
    metric = Metric("judge_correct", "Judge: correct", "quality",
                    f"LLM judge ({judge.model}) finds the answer matches the gold"
                    + _sampled(judge), binary=True)
    return _JudgeScorer(metric, judge, "correct")


def judge_faithfulness(judge: Judge) -> Scorer:
    """Share of answers whose every claim the judge finds supported by the context."""
    metric = Metric("judge_faithful", "Judge: faithful", "quality",
                    f"LLM judge ({judge.model}) finds every claim supported by the retrieved "
                    "context, over answers that make claims" + _sampled(judge), binary=True)
    return _JudgeScorer(metric, judge, "faithful", claims_only=True)


def faithfulness(judge: Judge) -> Scorer:
    """Claim-level faithfulness: the share of an answer's claims the judge finds supported
    by the retrieved passages, over successful answers that make claims (a refusal claims
    nothing: it is counted as a refusal, not as faithful)."""
    metric = Metric("faithfulness", "Faithfulness", "quality",
                    f"share of the answer's claims the LLM judge ({judge.model}) finds "
                    "supported by the retrieved passages, over answers that make claims"
                    + _sampled(judge))
    return _JudgeScorer(metric, judge, "faithfulness", claims_only=True)


def judge_relevance(judge: Judge) -> Scorer:
    """Share of answers the judge finds relevant to the question."""
    metric = Metric("judge_relevant", "Judge: relevant", "quality",
                    f"LLM judge ({judge.model}) finds the answer addresses the question"
                    + _sampled(judge), binary=True)
    return _JudgeScorer(metric, judge, "relevant")


__all__ = ["DEFAULT_SAMPLE", "DEFAULT_SEED", "FAILED", "JUDGE_PROMPT", "NOT_JUDGED", "Grade",
           "Judge", "JudgeStats", "VerdictCache", "faithfulness", "judge_correctness",
           "judge_faithfulness", "judge_relevance", "parse_grade"]
