"""Faithfulness, per stack: the judge's claim-level score over the answers of its sample
that make claims (mean and a 95% BCa CI), the refusal rate beside it, and the answers that
repeat a planted false answer.

A refusal claims nothing, so it cannot be unfaithful; it used to score 1.0, and a stack that
always refused passed `faithfulness>=0.8`. Faithfulness is now the mean over answers that
make claims, and the share of answers that claim nothing (refusals, empty answers) is shown
beside it, so neither number can be read without the other.

An eval set may plant counterfactual passages: edited copies of real passages stating a
false answer, named by the question's `meta.counterfactual`. A stack that repeats the false
answer took it from the planted passage; lexical metrics score that like any other wrong
answer, so it is counted here as its own failure ("answers from the planted false passage:
17/100"). That count needs no judge: the false answer is matched like a gold answer
(normalised, whole tokens, `normalize.contains_gold`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from workbench.evalsets import EvalSetError, load_evalset
from workbench.normalize import contains_gold
from workbench.records.evalset import Question
from workbench.records.manifest import ManifestLike, RunManifest
from workbench.report.models import (
    Faithfulness,
    PlantedFalse,
    QuestionRow,
    ScoreCard,
    StackSummary,
)
from workbench.scoring.claims import split_claims
from workbench.scoring.stats import PairedBootstrap

#: The per-answer metric keys this module reads from the scorecard's rows.
FAITHFULNESS, ALL_SUPPORTED = "faithfulness", "judge_faithful"


def restore_meta(questions: list[Question], manifest: ManifestLike) -> list[Question]:
    """The run's questions with their `meta` (the store keeps no question meta), read back
    from the eval set the manifest names, only when it is a local folder or file whose
    digest is still the run's; else the questions as they are."""
    ref = RunManifest.read(manifest).evalset
    source, want = (ref.source, ref.digest) if ref is not None else (None, None)
    if any(q.meta for q in questions) or not source or not want or not Path(source).exists():
        return questions

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


def refusals(rows: list[QuestionRow], stack: str) -> tuple[int, int]:
    """(successful answers, of those the ones that claim nothing) of one stack, by the same
    claim split the judge is given."""
    answered = claimless = 0
    for row in rows:
        answer = row.answers.get(stack)
        if answer is None or row.status.get(stack) != "ok":
            continue
        answered += 1
        claimless += not split_claims(answer)
    return answered, claimless


def judged_faithfulness(rows: list[QuestionRow], stack: str, boot: PairedBootstrap
                        ) -> Faithfulness:
    """One stack's judged faithfulness over its answers that make claims (the scorer leaves
    the others unscored), with the refusal rate of all its successful answers."""
    values = np.array([v for r in rows if (v := r.scores.get(stack, {}).get(FAITHFULNESS))
                       is not None], dtype=np.float64)
    every = [v for r in rows if (v := r.scores.get(stack, {}).get(ALL_SUPPORTED)) is not None]
    answered, claimless = refusals(rows, stack)
    out = Faithfulness(answered=answered, refusals=claimless,
                       refusal_rate=claimless / answered if answered else None)
    if values.size == 0:
        return out
    iv = boot.mean(values)  # BCa, seeded: as every other CI of the scorecard
    out.judged, out.mean = int(values.size), float(values.mean())
    out.ci_low = None if math.isnan(iv.low) else max(iv.low, float(values.min()))
    out.ci_high = None if math.isnan(iv.high) else min(iv.high, float(values.max()))
    out.all_supported = float(np.mean(every)) if every else None
    return out


def add_faithfulness(summaries: dict[str, StackSummary], rows: list[QuestionRow],
                     questions: list[Question], boot: PairedBootstrap,
                     judged: bool = True) -> None:
    """Set each stack summary's `faithfulness` (left None where the run was not judged and
    the set plants no passage)."""
    for stack, summary in summaries.items():
        f = judged_faithfulness(rows, stack, boot)
        f.planted = planted_false(rows, questions, stack)
        if f.judged or f.planted is not None or (judged and f.refusals):
            summary.faithfulness = f


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
        parts.append(f"faithfulness {f.mean:.2f}{ci} (claims supported, over n={f.judged} "
                     "judged answers that make claims)")
    if f.answered and (f.judged or f.refusals):
        parts.append(f"refused {f.refusals}/{f.answered} ({f.refusals / f.answered:.0%}; "
                     "a refusal claims nothing and is not scored)")
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
    if f.refusals:  # the cell is narrow (80-column TUI): refusals only where there are some
        parts.append(f"{f.refusals}/{f.answered} refused")
    if f.planted is not None:
        parts.append(f"{f.planted.repeated}/{f.planted.answered} planted")
    return " · ".join(parts) or "-"


def faithfulness_lines(card: ScoreCard) -> list[str]:
    """The report's faithfulness block: one line per stack, then what to trust the judge for
    (none when the run was not judged and its set plants nothing)."""
    # why here: report.judge_trust imports scipy (SciPy takes seconds to import)
    from workbench.report.judge_trust import trust_lines

    per_stack = [f"  {card.label(s)}: {line}" for s in card.stacks
                 if s in card.summaries and (line := faithfulness_line(card.summaries[s]))]
    lines = ["Faithfulness (claims supported by the retrieved passages):", *per_stack] \
        if per_stack else []
    return lines + [f"  {line}" for line in trust_lines(card.judge_trust)]


__all__ = ["add_faithfulness", "faithfulness_cell", "faithfulness_line", "faithfulness_lines",
           "judged_faithfulness", "planted_false", "refusals", "restore_meta"]
