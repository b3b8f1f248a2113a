"""Arena votes in the results database (the `votes` table of migration 001).

A vote compares two stacks by name: `stack_a` and `stack_b` are the stacks the arena put on
its sides A and B (in a blind round the screen positions were shuffled, but the stored
letters always mean these names), and `vote` is "A", "B", "tie" or "both_bad". The arena
asks free questions, so most votes have no `run_id`: the votes of a run are the ones
stored with its id, and every other vote between two of its stacks (a run's stacks are
named recipes, so a vote on `vllm-cpu` against `llamacpp-cpu` speaks about the same two
stacks). Only `store/` speaks SQL; the report and the views read `Vote`s from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from workbench.store.db import Store

#: What a stored vote may say (the table's CHECK constraint).
VOTE_VALUES = ("A", "B", "tie", "both_bad")


@dataclass(frozen=True)
class Vote:
    """One arena vote, with the real stack names behind its sides."""

    id: str
    run_id: str | None
    question: str
    stack_a: str
    stack_b: str
    vote: str
    blind: bool
    detail: dict[str, Any]
    datetime_utc: str

    @property
    def winner(self) -> str | None:
        """The stack voted better (None for a tie or "both bad")."""
        return {"A": self.stack_a, "B": self.stack_b}.get(self.vote)

    @property
    def loser(self) -> str | None:
        """The stack voted worse (None for a tie or "both bad")."""
        return {"A": self.stack_b, "B": self.stack_a}.get(self.vote)


def _vote(row: Any) -> Vote:
    try:
        detail = json.loads(row["detail_json"]) if row["detail_json"] else {}
    except json.JSONDecodeError:
        detail = {}  # a damaged detail loses its extras, never the vote itself
    return Vote(id=str(row["id"]), run_id=row["run_id"], question=str(row["question"]),
                stack_a=str(row["stack_a"]), stack_b=str(row["stack_b"]), vote=str(row["vote"]),
                blind=bool(row["blind"]), detail=detail if isinstance(detail, dict) else {},
                datetime_utc=str(row["datetime_utc"]))


def all_votes(store: Store) -> list[Vote]:
    """Every stored vote, oldest first."""
    rows = store.conn.execute("SELECT * FROM votes ORDER BY id").fetchall()
    return [_vote(r) for r in rows]


def votes_between(store: Store, stacks: list[str], run_id: str | None = None) -> list[Vote]:
    """Votes whose two stacks are both in `stacks` (any run, or none), plus every vote
    stored with `run_id`; oldest first."""
    if not stacks and run_id is None:
        return []
    marks = ",".join("?" for _ in stacks) or "NULL"
    # Only placeholders are formatted in; every value is a bound parameter.
    sql = (f"SELECT * FROM votes WHERE (stack_a IN ({marks}) AND stack_b IN ({marks}))"  # noqa: S608
           " OR run_id = ? ORDER BY id")
    rows = store.conn.execute(sql, (*stacks, *stacks, run_id)).fetchall()
    return [_vote(r) for r in rows]


def votes_of_run(store: Store, run_id: str) -> list[Vote]:
    """The votes that speak about a run's stacks (see the module docstring)."""
    return votes_between(store, [e["name"] for e in store.run_stacks(run_id)], run_id)


def vote_rows(votes: list[Vote]) -> list[dict[str, Any]]:
    """Flat rows for an export: who was on each side, the vote, and the voted-for stack."""
    return [{"vote_id": v.id, "run_id": v.run_id, "question": v.question,
             "stack_a": v.stack_a, "stack_b": v.stack_b, "vote": v.vote,
             "winner": v.winner, "blind": v.blind,
             "left": v.detail.get("left"), "gold": v.detail.get("gold"),
             "token_f1": json.dumps(v.detail.get("token_f1")),
             "datetime_utc": v.datetime_utc} for v in votes]
