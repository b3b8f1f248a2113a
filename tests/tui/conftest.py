"""Fixtures of the TUI tests: a deterministic stored run in a tmp database, settings in tmp.

Run ids and timestamps come from the store's ULID and clock; they are pinned here so the
screens (and their snapshots) show the same text on every run.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.web.legacy import store_old_two_stack_run
from workbench.settings import PROJECT_ROOT, Settings
from workbench.store.db import Store
from workbench.store.synthetic import store_synthetic_run
from workbench.tui.app import WorkbenchApp

FIXED_UTC = "2026-01-02T03:04:05.000+00:00"


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ids 01TESTRUN00000000000000000N and a fixed clock for everything stored."""
    counter = itertools.count(1)
    monkeypatch.setattr("workbench.store.db.ULID", lambda: f"01TESTRUN{next(counter):017d}")
    monkeypatch.setattr("workbench.store.db.utc_now", lambda: FIXED_UTC)


@dataclass
class Workspace:
    """A tmp database with stored runs, and settings whose folders are in tmp."""

    db: Path
    settings: Settings
    run_ids: list[str]

    def app(self, **kwargs: object) -> WorkbenchApp:
        """The app on this workspace; no semantic model, no stack polling timer."""
        options: dict[str, object] = {"semantic": False, "refresh_s": 3600.0, **kwargs}
        return WorkbenchApp(self.db, settings=self.settings, **options)  # type: ignore[arg-type]

    def store(self) -> Store:
        """A connection to the database."""
        return Store(self.db)


def write_evalset(folder: Path, n: int) -> None:
    """A tiny eval set of `n` questions, each with one gold passage."""
    folder.mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"doc{i}", "title": f"Doc {i}",
                                "text": f"Passage {i} says the answer is {i}."}) + "\n")
    with (folder / "questions.jsonl").open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"q{i}", "question": f"What is answer {i}?",
                                "answers": [str(i)], "gold_doc_ids": [f"doc{i}"],
                                "answerable": True, "lang": "en"}) + "\n")


@pytest.fixture
def workspace(tmp_path: Path, fixed_ids: None) -> Iterator[Workspace]:
    """Stored runs, newest first: a 12-question two-stack run, a 40-question three-stack run
    with constraints, and a 20-question run stored before N-stack runs (sides A and B);
    two stack recipes; one eval set."""
    db = tmp_path / "workbench.db"
    old = store_old_two_stack_run(db, 20)
    with Store(db) as store:
        first = store_synthetic_run(store, 40, seed=7, stacks=3)
        manifest = store.get_run(first)["manifest"]
        store.update_manifest(first, {**manifest, "choice": {"slo": ["e2e.p50<=2s"],
                                                             "min": ["f1>=0.2"]}})
        second = store_synthetic_run(store, 12, seed=3)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    for name in ("llamacpp-cpu", "vllm-cpu"):
        shutil.copy(PROJECT_ROOT / "stacks" / f"{name}.yaml", stacks / f"{name}.yaml")
    evalsets = tmp_path / "evalsets"
    write_evalset(evalsets / "mini", 4)
    settings = Settings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache",
                        stacks_dir=stacks, evalsets_dir=evalsets, db=db)
    yield Workspace(db, settings, [second, first, old])  # newest first, as History lists them
