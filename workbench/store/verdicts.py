"""The LLM judge's verdicts in the results database (the table of migration
`006_judge_verdicts`), so an answer judged once is never sent to the judge again.

A verdict is keyed by five sha256 digests: the judge (its model file), the prompt template,
the item (question and gold), the retrieved context that was sent and the answer. Change
any of them and the verdict no longer applies. The store keeps the verdict as JSON and hands
it back as a dict: it never imports the judge.

It shares the `Store`'s connection, file and migrations: only `store/` speaks SQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.store.db import Store, utc_now


def digest(text: str) -> str:
    """sha256 hex digest of a text (UTF-8), the form every key part takes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerdictKey:
    """What a verdict depends on, each part a sha256 hex digest."""

    judge: str
    """The judge's identity: its model file's sha256 (or a digest of model and endpoint)."""
    prompt: str
    """The prompt template."""
    item: str
    """The question and its gold answers."""
    context: str
    """The retrieved context as sent to the judge (after truncation)."""
    answer: str
    """The judged answer (both answers, in order, for a pairwise comparison)."""

    def astuple(self) -> tuple[str, str, str, str, str]:
        """The key in column order."""
        return (self.judge, self.prompt, self.item, self.context, self.answer)


class VerdictStore:
    """Typed access to the `judge_verdicts` table of a `Store` (same file, connection)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, keys: Sequence[VerdictKey]) -> dict[VerdictKey, dict[str, Any]]:
        """The stored verdicts of those keys that have one."""
        found: dict[VerdictKey, dict[str, Any]] = {}
        # One primary-key lookup per key: a few hundred per report, each microseconds.
        for key in dict.fromkeys(keys):
            row = self.store.conn.execute(
                "SELECT verdict_json FROM judge_verdicts WHERE judge_digest = ? AND"
                " prompt_digest = ? AND item_digest = ? AND context_digest = ? AND"
                " answer_digest = ?", key.astuple(),
            ).fetchone()
            if row is not None:
                found[key] = json.loads(row[0])
        return found

    def put_many(self, items: Sequence[tuple[VerdictKey, dict[str, Any]]]) -> None:
        """Store verdicts (a verdict stored again under the same key replaces the old one).

        Raises `StoreError` (naming the file) where the database cannot be written."""
        if not items:
            return
        now = utc_now()
        with self.store._write() as c:
            c.executemany(
                "INSERT OR REPLACE INTO judge_verdicts (judge_digest, prompt_digest,"
                " item_digest, context_digest, answer_digest, verdict_json, created_utc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*k.astuple(), json.dumps(v, ensure_ascii=False), now) for k, v in items],
            )

    def count(self, judge: str | None = None) -> int:
        """How many verdicts are stored (of one judge, when given)."""
        if judge is None:
            row = self.store.conn.execute("SELECT COUNT(*) FROM judge_verdicts").fetchone()
        else:
            row = self.store.conn.execute(
                "SELECT COUNT(*) FROM judge_verdicts WHERE judge_digest = ?", (judge,)
            ).fetchone()
        return int(row[0])


__all__ = ["VerdictKey", "VerdictStore", "digest"]
