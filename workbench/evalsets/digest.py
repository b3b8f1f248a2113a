"""The content digest of an eval set, recorded in every run's manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from workbench.records.evalset import Question
from workbench.records.passage import Passage


def evalset_digest(passages: Sequence[Passage], questions: Sequence[Question]) -> str:
    """sha256 (hex) over the canonical JSON of the passages and questions, in order.

    Unset optional fields are left out (`exclude_none`), so the digest does not change when
    the model gains an optional field, and a set has one digest whichever file format
    (JSON Lines, Parquet, CSV) it was read from.
    """
    doc = {
        "passages": [p.model_dump(mode="json", exclude_none=True) for p in passages],
        "questions": [q.model_dump(mode="json", exclude_none=True) for q in questions],
    }
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
