"""An engine added with one module (tests/stacks/toy_engine.py, named in WORKBENCH_ENGINES)
goes through the launcher, the identity probe, the RAG service and a stored run like the
shipped engines: nothing outside its module knows its name (issue #25, point 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.stacks import toy_engine
from workbench.runner.run import RunOptions
from workbench.runner.session import create_run, execute
from workbench.settings import Settings
from workbench.stacks import identity, launcher
from workbench.stacks.engines import get_adapter, unregister
from workbench.stacks.process import LaunchError
from workbench.stacks.recipe import Stack
from workbench.stacks.state import run_dir
from workbench.stacks.status import status
from workbench.store.db import Store

pytestmark = [pytest.mark.slow]  # three processes: the toy engine and two RAG services

N_QUESTIONS = 2


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The toy engine known to this process and to every process it starts."""
    monkeypatch.setenv("WORKBENCH_ENGINES", "tests.stacks.toy_engine")
    monkeypatch.setenv("PYTHONPATH", str(toy_engine.REPO))  # the RAG services import it
    yield
    unregister("toy")


def _toy(name: str, **fields: object) -> Stack:
    return Stack.model_validate({
        "name": name, "engine": "toy", "model": {"name": "toy-model"},
        "ports": {"rag": free_port(), "engine": free_port()},
        "generation": {"max_tokens": 8, "context_window": 2048}, **fields})


async def test_a_toy_engine_runs_through_launcher_identity_and_a_stored_run(
        toy: None, settings: Settings, tmp_path: Path) -> None:
    assert get_adapter("toy") is toy_engine.ADAPTER
    here = _toy("toy-here")
    engine_url = f"http://127.0.0.1:{here.ports.engine}"
    # The same engine reached by URL: the remote wrapper asks the toy adapter's questions.
    there = _toy("toy-there", launch="remote", engine_url=engine_url,
                 ports={"rag": free_port()})

    started = launcher.up(here, settings)
    assert [p.role for p in started.state.processes] == ["engine", "rag"]
    assert started.state.processes[0].argv[1:3] == ["-m", "tests.stacks.toy_engine"]
    reached = launcher.up(there, settings)
    assert [p.role for p in reached.state.processes] == ["rag"]

    served = json.loads((run_dir("toy-there", settings) / "identity.json").read_text())
    assert served["version"] == "toy 0.1-toy" and served["context"] == toy_engine.CONTEXT
    assert served["details"] == {"weights": "toy-words"} and served["model_listed"]
    assert "metrics" not in served  # the adapter says it has no /metrics
    entry = identity.remote_model_entry(there, served)
    assert "(/toy/info)" in entry["note"]
    # The toy routes by model name: a model it does not list is refused, not warned about.
    wrong = there.model_copy(update={"model": there.model.model_copy(  # type: ignore[union-attr]
        update={"name": "other-model"})})
    with pytest.raises(LaunchError, match="does not serve 'other-model'"):
        identity.check_remote_engine(wrong, tmp_path)
    versions = {s.name: s.engine_version for s in status(settings)}
    assert versions == {"toy-here": "toy 0.1-toy", "toy-there": "toy 0.1-toy"}

    with Store(tmp_path / "wb.db") as store:
        prepared = create_run(store, "demo-en", ["toy-here", "toy-there"],
                              limit=N_QUESTIONS, options=RunOptions(), settings=settings)
        await execute(store, prepared)
        records = store.responses(prepared.run_id)
    ok = [r for r in records if r.status == "ok"]
    assert len(ok) == 2 * N_QUESTIONS, [(r.stack, r.status, r.error) for r in records]
    assert {r.engine for r in ok} == {"toy"}
    # Both RAG services (other processes) shaped every request through the toy adapter.
    asked = [json.loads(line) for line in
             (run_dir("toy-here", settings) / "toy-requests.jsonl").read_text().splitlines()]
    assert len(asked) >= 2 * N_QUESTIONS
    assert all(a["toy_quirk"] == toy_engine.QUIRK["toy_quirk"] for a in asked)
    assert {a["model"] for a in asked} == {"toy-model"}
