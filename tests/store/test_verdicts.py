"""The judge's verdict cache in a real SQLite file: keyed by all five digests, kept across
connections, and a read-only store refuses writes with an error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.store.db import Store, StoreError
from workbench.store.migrations import MIGRATIONS
from workbench.store.verdicts import VerdictKey, VerdictStore, digest


def _key(answer: str = "Paris", judge: str = "j1") -> VerdictKey:
    return VerdictKey(judge=digest(judge), prompt=digest("prompt v1"), item=digest("q|gold"),
                      context=digest("Paris is the capital."), answer=digest(answer))


def test_migration_is_named_and_last() -> None:
    assert "006_judge_verdicts" in [name for name, _ in MIGRATIONS]


def test_verdicts_round_trip_and_persist(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    verdict = {"correct": True, "relevant": True, "supported": [True, False],
               "claims": ["Paris is the capital.", "It has 9 million people."]}
    with Store(db) as store:
        assert "006_judge_verdicts" in store.applied_migrations()
        verdicts = VerdictStore(store)
        assert verdicts.get_many([_key()]) == {}
        verdicts.put_many([(_key(), verdict)])
        assert verdicts.count() == 1
    with Store(db) as again:  # a new connection reads what the first one wrote
        found = VerdictStore(again).get_many([_key(), _key("Berlin"), _key(judge="j2")])
    # Only the exact key answers: another answer or another judge is not the same verdict.
    assert found == {_key(): verdict}


def test_many_keys_at_once(tmp_path: Path) -> None:
    with Store(tmp_path / "wb.db") as store:
        verdicts = VerdictStore(store)
        items = [(_key(f"answer {i}"), {"i": i}) for i in range(400)]
        verdicts.put_many(items)
        found = verdicts.get_many([k for k, _ in items])
        assert len(found) == 400 and found[_key("answer 399")] == {"i": 399}
        assert verdicts.count(digest("j1")) == 400 and verdicts.count(digest("j2")) == 0


def test_replacing_a_verdict_keeps_one_row(tmp_path: Path) -> None:
    with Store(tmp_path / "wb.db") as store:
        verdicts = VerdictStore(store)
        verdicts.put_many([(_key(), {"correct": False})])
        verdicts.put_many([(_key(), {"correct": True})])
        assert verdicts.count() == 1
        assert verdicts.get_many([_key()])[_key()] == {"correct": True}


def test_a_read_only_store_says_which_file(tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    Store(db).close()
    with Store(db, readonly=True) as ro:
        verdicts = VerdictStore(ro)
        assert verdicts.get_many([_key()]) == {}
        with pytest.raises(StoreError, match=str(db)):
            verdicts.put_many([(_key(), {"correct": True})])
