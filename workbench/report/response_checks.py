"""Checks on what the stacks sent back that the scores alone would hide.

- **Retrieval that cannot be scored.** A stack that returns no sources, or only doc ids that
  match no gold passage id of the run, for most questions is not retrieving worse: it is
  searching somewhere else (an external backend asked under a space id it does not hold,
  or one whose doc ids are not the eval set's). Its hit@k would be 0 and the report would
  call the other stack better at retrieval. Instead the report warns, naming the space id
  that stack was sent, and leaves its retrieval out of the comparisons.
- **E2E only.** A stack whose answers carry no streamed token (an external backend asked
  without streaming) has no TTFT, TPOT or ITL: the report says that only E2E is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from workbench.records.evalset import Question
from workbench.records.manifest import ManifestLike, RunManifest
from workbench.records.responses import ResponseRecord, latest_attempts
from workbench.report.models import Comparison

#: More than this share of a stack's scorable answers without a usable source: unscorable.
UNUSABLE_SHARE = 0.5


class _Scored(Protocol):
    comparisons: list[Comparison]
    warnings: list[str]
    notes: list[str]


@dataclass
class ResponseChecks:
    """What the checks found: warnings and notes for the report, and the stacks whose
    retrieval is left out of the comparisons (stack -> why)."""

    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unusable_retrieval: dict[str, str] = field(default_factory=dict)

    def apply(self, scored: _Scored) -> None:
        """Drop the retrieval comparisons that involve an unusable stack and add the
        warnings and notes (to `paired.score`'s result, before the verdicts are written)."""
        bad = set(self.unusable_retrieval)
        scored.comparisons[:] = [
            c for c in scored.comparisons
            if not (c.section == "retrieval" and ({c.baseline, c.candidate} & bad))]
        scored.warnings.extend(self.warnings)
        scored.notes.extend(self.notes)


def _space_id(manifest: RunManifest, stack: str) -> str | None:
    spaces = manifest.space_ids or {}
    if spaces.get(stack):
        return str(spaces[stack])
    if manifest.evalset is not None and manifest.evalset.space_id:
        return manifest.evalset.space_id
    return None


def check_responses(questions: Sequence[Question], responses: Sequence[ResponseRecord],
                    stacks: Sequence[str], manifest: ManifestLike = None
                    ) -> ResponseChecks:
    """Run both checks over the latest attempt of every (stack, question)."""
    typed = RunManifest.read(manifest)
    out = ResponseChecks()
    latest = latest_attempts(responses)
    gold_ids = {g for q in questions for g in q.gold_doc_ids}
    with_gold = [q for q in questions if q.gold_doc_ids]
    for stack in stacks:
        answered = [latest[(stack, q.id)] for q in with_gold
                    if (stack, q.id) in latest and latest[(stack, q.id)].status == "ok"]
        empty = sum(1 for r in answered if not r.sources)
        foreign = sum(1 for r in answered
                      if r.sources and not any(s.doc_id in gold_ids for s in r.sources))
        if answered and (empty + foreign) / len(answered) > UNUSABLE_SHARE:
            space = _space_id(typed, stack)
            sent = f"space id sent: {space!r}" if space else "no space id was sent"
            what = ("no sources" if foreign == 0 else
                    "only doc ids that match no gold passage" if empty == 0 else
                    "no sources, or only doc ids that match no gold passage,")
            why = f"{what} for {empty + foreign} of {len(answered)} questions ({sent})"
            out.unusable_retrieval[stack] = why
            out.warnings.append(
                f"{stack} returned {why}: its retrieval cannot be scored, so it is not "
                "compared (this is not a retrieval loss). The backend probably holds the "
                "documents under another space id or other doc ids: set `external.space_id` "
                "in its recipe to the space it indexed them in.")
        ok = [r for q in questions if (r := latest.get((stack, q.id))) and r.status == "ok"]
        if ok and all(r.timing.first_token is None for r in ok):
            out.notes.append(
                f"{stack}: its answers were not streamed, so only E2E is known for it (no "
                "TTFT, TPOT or ITL); `external.stream: true` measures TTFT where the "
                "backend streams")
    return out
