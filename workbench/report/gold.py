"""What a run can be scored on when its eval set lacks gold answers or gold passage ids.

A questions-only set (a team's own questions, no labels) loads like any other; the scorers
give `None` where there is nothing to compare with. These notes say so in the report, so
an empty retrieval table or a missing F1 reads as "not measurable here", never as zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.records.evalset import Question

#: The report's words when answers are missing and no judge was asked for.
NEEDS_JUDGE = "no gold answers: quality needs --judge"


def gold_notes(questions: Sequence[Question], judged: bool) -> list[str]:
    """One note per kind of missing gold (none for a fully labelled set)."""
    answerable = [q for q in questions if q.answerable]
    n = len(answerable)
    no_ids = sum(not q.gold_doc_ids for q in answerable)
    no_answers = sum(not q.answers for q in answerable)
    notes = []
    if no_ids:
        notes.append(f"no gold passage ids for {_share(no_ids, n)} answerable questions: "
                     "retrieval metrics (hit@k, recall@k, MRR, nDCG) are skipped for them")
    if no_answers and not judged:
        notes.append(f"{NEEDS_JUDGE} ({_share(no_answers, n)} answerable questions have no "
                     "gold answer; exact match, F1 and gold-contained leave them out)")
    elif no_answers:
        notes.append(f"no gold answers for {_share(no_answers, n)} answerable questions: "
                     "their quality is the judge's verdict alone")
    return notes


def _share(k: int, n: int) -> str:
    return "all" if k == n else f"{k} of {n}"
