"""Faithfulness, per stack: the judge's claim-level score over its sample (mean and a 95%
bootstrap CI), and the answers that repeat a planted false answer.

An eval set may plant counterfactual passages: edited copies of real passages stating a
false answer, named by the question's `meta.counterfactual`. A stack that repeats the false
answer took it from the planted passage; lexical metrics score that like any other wrong
answer, so it is counted here as its own failure ("answers from the planted false passage:
17/100"). That count needs no judge: the false answer is matched like a gold answer
(normalised, whole tokens, `scoring.text.contains_gold`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from workbench.evalsets.model import Question
from workbench.report.models import (
    Faithfulness,
    PlantedFalse,
    QuestionRow,
    ScoreCard,
    StackSummary,
)
from workbench.scoring.stats import PairedBootstrap
from workbench.scoring.text import contains_gold

#: The per-answer metric keys this module reads from the scorecard's rows.
FAITHFULNESS, ALL_SUPPORTED = "faithfulness", "judge_faithful"


def restore_meta(questions: list[Question], manifest: dict[str, Any] | None
                 ) -> list[Question]:
    """The run's questions with their `meta` (the store keeps no question meta), read back
    from the eval set the manifest names, only when it is a local folder or file whose
    digest is still the run's; else the questions as they are."""
    ref = (manifest or {}).get("evalset") or {}
    source, want = ref.get("source"), ref.get("digest")
    if any(q.meta for q in questions) or not source or not want or not Path(source).exists():
        return questions
    from workbench.evalsets import EvalSetError, load_evalset

    try:
        evalset = load_evalset(Path(source))
    except (EvalSetError, OSError, ValueError):
        return questions
    if evalset.digest != want:
        return questions  # the set changed since the run: its plants may not be the run's
    meta = {q.id: q.meta for q in evalset.questions if q.meta}
    return [q.model_copy(update={"meta": meta[q.id]}) if q.id in meta else q
            for q in questions]


def planted_false(rows: list[QuestionRow], questions: list[Question], stack: str
                  ) -> PlantedFalse | None:
    """How many of a stack's successful answers to questions with a planted passage repeat
    its false answer (None when the set plants none)."""
    planted = {q.id: [c.false_answer for c in q.counterfactuals()] for q in questions}
    planted = {qid: answers for qid, answers in planted.items() if answers}
    if not planted:
        return None
    answered, repeated = 0, []
    for row in rows:
        false_answers = planted.get(row.question_id)
        answer = row.answers.get(stack)
        if not false_answers or answer is None or row.status.get(stack) != "ok":
            continue
        answered += 1
        # An answer that gives both the false and the gold answer is not counted: it did
        # not take the planted passage's word for it.
        if contains_gold(answer, false_answers) and not (
                row.gold and contains_gold(answer, row.gold)):
            repeated.append(row.question_id)
    return PlantedFalse(repeated=len(repeated), answered=answered,
                        rate=len(repeated) / answered if answered else None,
                        question_ids=repeated)


def judged_faithfulness(rows: list[QuestionRow], stack: str, boot: PairedBootstrap
                        ) -> tuple[int, float | None, float | None, float | None, float | None]:
    """(judged, mean, CI low, CI high, share with every claim supported) of one stack."""
    values = np.array([v for r in rows if (v := r.scores.get(stack, {}).get(FAITHFULNESS))
                       is not None], dtype=np.float64)
    every = [v for r in rows if (v := r.scores.get(stack, {}).get(ALL_SUPPORTED)) is not None]
    if values.size == 0:
        return 0, None, None, None, None
    # The mean of one sample is the mean difference from zero: the same seeded bootstrap as
    # every other CI of the scorecard.
    iv = boot.mean_diff(np.zeros_like(values), values)
    low = None if math.isnan(iv.low) else iv.low
    high = None if math.isnan(iv.high) else iv.high
    return (int(values.size), float(values.mean()), low, high,
            float(np.mean(every)) if every else None)


def add_faithfulness(summaries: dict[str, StackSummary], rows: list[QuestionRow],
                     questions: list[Question], boot: PairedBootstrap) -> None:
    """Set each stack summary's `faithfulness` (left None where the run was not judged and
    the set plants no passage)."""
    for stack, summary in summaries.items():
        judged, mean, low, high, every = judged_faithfulness(rows, stack, boot)
        planted = planted_false(rows, questions, stack)
        if judged or planted is not None:
            summary.faithfulness = Faithfulness(judged=judged, mean=mean, ci_low=low,
                                                ci_high=high, all_supported=every,
                                                planted=planted)


def faithfulness_line(summary: StackSummary) -> str | None:
    """One line for the report: `faithfulness 0.82 [0.74, 0.89] (n=50 judged); answers from
    the planted false passage: 17/100`."""
    f = summary.faithfulness
    if f is None:
        return None
    parts = []
    if f.judged and f.mean is not None:
        ci = f" [{f.ci_low:.2f}, {f.ci_high:.2f}]" if f.ci_low is not None \
            and f.ci_high is not None else ""
        parts.append(f"faithfulness {f.mean:.2f}{ci} (claims supported, n={f.judged} judged)")
    if f.planted is not None:
        parts.append(f"answers from the planted false passage: {f.planted.repeated}/"
                     f"{f.planted.answered}")
    return "; ".join(parts) if parts else None




def faithfulness_cell(summary: StackSummary) -> str:
    """A leaderboard cell for the views: `0.82 (n=50)`, `3/24 planted`, both, or `-`."""
    f = summary.faithfulness
    if f is None:
        return "-"
    parts = [f"{f.mean:.2f} (n={f.judged})"] if f.judged and f.mean is not None else []
    if f.planted is not None:
        parts.append(f"{f.planted.repeated}/{f.planted.answered} planted")
    return " · ".join(parts) or "-"


def faithfulness_lines(card: ScoreCard) -> list[str]:
    """The report's faithfulness block: one line per stack, then what to trust the judge for
    (none when the run was not judged and its set plants nothing)."""
    from workbench.report.judge_trust import trust_lines

    per_stack = [f"  {card.label(s)}: {line}" for s in card.stacks
                 if s in card.summaries and (line := faithfulness_line(card.summaries[s]))]
    lines = ["Faithfulness (claims supported by the retrieved passages):", *per_stack] \
        if per_stack else []
    return lines + [f"  {line}" for line in trust_lines(card.judge_trust)]


__all__ = ["add_faithfulness", "faithfulness_cell", "faithfulness_line", "faithfulness_lines",
           "judged_faithfulness", "planted_false", "restore_meta"]
