"""Resuming a stored run reads its typed manifest: one that lacks what the run needs, or
names an unknown schedule, is refused naming the run and the field before anything is
loaded or asked; a malformed one is refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner.test_importer import interrupted_run
from workbench.records.manifest import ManifestError
from workbench.runner.run import RunError
from workbench.runner.session import reopen_run
from workbench.store import Store

FULL = {"schedule": "interleaved", "concurrency": 1, "timeout_s": 60, "warmup_requests": 0}


@pytest.mark.parametrize(("manifest", "said"), [
    ({"concurrency": 1, "timeout_s": 60}, "its manifest lacks schedule, warmup_requests"),
    ({**FULL, "schedule": "shuffled"}, "manifest field schedule: unknown schedule 'shuffled'"),
])
def test_a_run_that_cannot_be_resumed_says_why(tmp_path: Path, manifest: dict[str, object],
                                               said: str) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = interrupted_run(store, n=4)
    store.update_manifest(run_id, manifest)
    with pytest.raises(RunError, match=f"^run {run_id}: {said}"):
        reopen_run(store, run_id)


def test_a_malformed_manifest_is_not_resumed(tmp_path: Path) -> None:
    store = Store(tmp_path / "wb.db")
    run_id = interrupted_run(store, n=4)
    store.update_manifest(run_id, {**FULL, "traffic": [{"url": 8000}]})
    with pytest.raises(ManifestError, match=f"run {run_id}: manifest field traffic.0.url"):
        reopen_run(store, run_id)
