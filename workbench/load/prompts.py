"""What a load benchmark sends: real RAG prompts from an eval set, synthetic prompts of a
given length, or a fixed prompt file (the JSONL `vllm bench serve --dataset-name custom`
reads, so both tools can send byte-identical prompts).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from workbench.rag.prompt import SYSTEM, USER, choose_lang
from workbench.scoring.answer import answer_is_correct

#: Short, common English words: most BPE vocabularies hold each (with its leading space)
#: as one token, so N words is close to N prompt tokens; `calibrate` corrects the rest.
_WORDS = (
    "the of and to in is was for on that with as by at from his her they this be are an "
    "or had not but were which one all there their has been would who more will so can "
    "said its out about up time new into two than other some could these first may any "
    "after over most made only where long many such then those see back also both well "
    "year part each much very good way when work well old life day world man home city"
).split()


@dataclass(frozen=True)
class LoadPrompt:
    """One prompt: chat messages for an engine, or a question for a RAG service."""

    id: str
    messages: list[dict[str, str]]
    question: str = ""
    answers: list[str] = field(default_factory=list)
    #: True/False for an eval-set question (graded); None for filler text (not graded).
    answerable: bool | None = None
    output_len: int | None = None

    def grade(self, answer: str, *, ok: bool = True) -> bool | None:
        """Whether the answer is correct by the scorecard's "gold contained" rule
        (`scoring.answer.answer_is_correct`; a failed request is wrong); None when this
        prompt has nothing to grade against."""
        if self.answerable is None or (self.answerable and not self.answers):
            return None
        return ok and answer_is_correct(answer, self.answers, answerable=self.answerable)


def rag_prompts(evalset: Any, *, for_engine: bool, limit: int | None = None) -> list[LoadPrompt]:
    """Prompts from an eval set (`EvalSet`: `.questions`, `.passages`).

    For a RAG service the question alone is sent (the service retrieves). For an engine a
    RAG-like prompt is built the service's way (same system and user templates) from the
    question plus its gold passage, so the engine sees realistic context lengths.
    """
    passages = {p.id: p for p in evalset.passages}
    out: list[LoadPrompt] = []
    for q in evalset.questions:
        if limit is not None and len(out) >= limit:
            break
        gold = [passages[g] for g in q.gold_doc_ids if g in passages]
        if for_engine and not gold:
            continue  # without its passage the engine prompt would not be a RAG prompt
        lang = choose_lang("auto", q.question)
        if for_engine:
            context = "\n\n".join(
                f"[{i}] {p.title}\n{p.text}" if p.title else f"[{i}] {p.text}"
                for i, p in enumerate(gold, start=1)
            )
            messages = [
                {"role": "system", "content": SYSTEM[lang]},
                {"role": "user",
                 "content": USER[lang].format(context=context, question=q.question)},
            ]
        else:
            messages = [{"role": "user", "content": q.question}]
        out.append(LoadPrompt(id=q.id, messages=messages, question=q.question,
                              answers=list(q.answers) if q.answerable else [],
                              answerable=q.answerable))
    return out


def question_prompts(questions: Any) -> list[LoadPrompt]:
    """A RAG service's prompts from questions alone (e.g. a stored run's), graded by the
    scorecard's rule like `rag_prompts`."""
    return rag_prompts(SimpleNamespace(questions=list(questions), passages=[]), for_engine=False)


def synthetic_prompts(
    n: int, words: int, *, output_len: int | None, seed: int = 0
) -> list[LoadPrompt]:
    """`n` distinct prompts of `words` random common words (distinct so no prefix cache
    makes later requests artificially cheap)."""
    rng = random.Random(seed)  # noqa: S311 (reproducible filler text, not a secret)
    out = []
    for i in range(n):
        text = " ".join(rng.choice(_WORDS) for _ in range(max(words, 1)))
        out.append(LoadPrompt(id=f"synthetic-{i}", messages=[{"role": "user", "content": text}],
                              question=text, output_len=output_len))
    return out


def write_jsonl(prompts: list[LoadPrompt], path: Path) -> Path:
    """Write prompts in `vllm bench serve`'s custom-dataset format (`prompt`, `output_tokens`).

    Only single-user-message prompts can be written (that format has no system message).
    """
    with path.open("w", encoding="utf-8") as f:
        for p in prompts:
            if len(p.messages) != 1:
                raise ValueError(
                    f"prompt {p.id} has a system message; the JSONL format cannot hold it"
                )
            row: dict[str, Any] = {"prompt": p.messages[0]["content"]}
            if p.output_len is not None:
                row["output_tokens"] = p.output_len
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def read_jsonl(path: Path, *, output_len: int | None = None) -> list[LoadPrompt]:
    """Read a custom-dataset JSONL (`prompt`, optional `output_tokens`, optional `answers`,
    optional `answerable`: a row with answers is graded, one with `"answerable": false` is
    graded as a refusal, any other row is not graded)."""
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
            raise ValueError(f"{path}:{i + 1}: each line needs a string `prompt`")
        answers = [str(a) for a in row.get("answers", [])]
        flag = row.get("answerable")
        out.append(LoadPrompt(
            id=str(row.get("id", f"line-{i + 1}")),
            messages=[{"role": "user", "content": row["prompt"]}], question=row["prompt"],
            answers=answers,
            answerable=flag if isinstance(flag, bool) else (True if answers else None),
            output_len=output_len if output_len is not None else row.get("output_tokens"),
        ))
    return out
