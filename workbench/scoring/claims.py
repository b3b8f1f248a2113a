"""An answer split into claims, and the JSON schema the judge's verdict must follow.

Claim-level faithfulness (as in RAGChecker): the answer is split into claims, the judge gives
one verdict per claim (is it supported by the retrieved passages?), and the answer's
faithfulness is the supported share. The split is done here, by rule (sentences, then
clauses joined by `;`), not by the judge: it is reproducible, costs no tokens on a 10 tok/s
CPU judge, and the schema can then demand exactly one verdict per claim.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.scoring.refusal import is_refusal

#: More claims than this are judged as the first MAX_CLAIMS (long answers are rare in RAG and
#: each claim costs output tokens).
MAX_CLAIMS = 8
# A sentence ends at . ! ? (or their CJK forms) followed by space, or at a line break; a
# bullet or number at a line's start is not part of the claim.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+|;\s+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"\w\w")


def split_claims(answer: str) -> list[str]:
    """The answer's claims: its sentences and `;`-clauses with at least one word; none for a
    refusal or an empty answer (a refusal claims nothing, so it is faithful)."""
    if not answer.strip() or is_refusal(answer):
        return []
    parts = (_BULLET.sub("", p).strip() for p in _SENTENCE_END.split(answer.strip()))
    return [p for p in parts if _WORD.search(p)][:MAX_CLAIMS]


def verdict_schema(n_claims: int, *, with_gold: bool) -> dict[str, Any]:
    """The JSON schema of one verdict: `correct` (only where gold exists), `relevant`, and
    exactly `n_claims` booleans in `supported`, claim by claim."""
    props: dict[str, Any] = {}
    if with_gold:
        props["correct"] = {"type": "boolean"}
    props["relevant"] = {"type": "boolean"}
    props["supported"] = {"type": "array", "items": {"type": "boolean"},
                          "minItems": n_claims, "maxItems": n_claims}
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


#: The schema of a pairwise verdict: which numbered answer is better, or a tie.
PAIRWISE_SCHEMA: dict[str, Any] = {
    "type": "object", "properties": {"better": {"type": "string", "enum": ["1", "2", "tie"]}},
    "required": ["better"], "additionalProperties": False,
}


def numbered(claims: list[str]) -> str:
    """Claims as the prompt lists them (`1. ...`), or a note that there are none."""
    if not claims:
        return "(none: the answer is a refusal or empty; reply with an empty list)"
    return "\n".join(f"{i}. {c}" for i, c in enumerate(claims, start=1))


__all__ = ["MAX_CLAIMS", "PAIRWISE_SCHEMA", "numbered", "split_claims", "verdict_schema"]
