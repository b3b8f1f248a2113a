"""Index once: three real RAG services on one state folder, prepared by a real run.

Stacks `a` and `b` have the same retrieval settings and share one index (b embeds
nothing); `c` chunks differently and gets its own. The run's manifest says which index
each stack used, and a second run on the same corpus builds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import free_port
from workbench.evalsets.loader import load_evalset
from workbench.runner import session
from workbench.runner.run import RunOptions
from workbench.settings import PROJECT_ROOT, Settings
from workbench.stacks.process import LaunchError
from workbench.stacks.rag_service import rag_service
from workbench.stacks.recipe import Retrieval, Stack, get_stack
from workbench.store.db import Store

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]  # a real llama.cpp, three RAG services


@pytest.fixture(scope="module")
def three_stacks(llama_server: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Stack],
                                                                            Path]]:
    """Stacks a, b (same retrieval) and c (other chunking), all up; yields them and the
    shared state folder."""
    work = tmp_path_factory.mktemp("shared-index")
    base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
    engine_port = int(llama_server.rsplit(":", 1)[1].split("/")[0])
    other = Retrieval(**{**base.retrieval.model_dump(), "chunk_size": 400, "chunk_overlap": 50})
    stacks = {
        "a": base.model_copy(update={"name": "a"}).with_ports(free_port(), engine_port),
        "b": base.model_copy(update={"name": "b"}).with_ports(free_port(), engine_port),
        "c": base.model_copy(update={"name": "c", "retrieval": other}).with_ports(
            free_port(), engine_port),
    }
    with ExitStack() as running:
        for name, stack in stacks.items():
            recipe = work / f"{name}.json"
            recipe.write_text(stack.model_dump_json())
            service = rag_service(stack, recipe, work / f"{name}.log", state_dir=work / "state",
                                  data_dir=work / name, timeout_s=120)
            try:
                running.enter_context(service)
            except LaunchError as exc:
                pytest.fail(str(exc))
        yield stacks, work / "state"


async def _run(store: Store, stacks: dict[str, Stack], notes: list[str]) -> dict[str, object]:
    evalset = load_evalset("demo-en", settings=Settings())
    questions = evalset.questions[:1]
    run_id = store.create_run(
        evalset=evalset.name, evalset_digest=evalset.digest, schedule="interleaved",
        stacks=[{"name": n} for n in stacks], questions=questions, manifest={}, limit=1)
    prepared = session.PreparedRun(run_id, evalset, questions, stacks, RunOptions(warmup=0))
    await session.execute(store, prepared, on_status=notes.append)
    manifest: dict[str, object] = store.get_run(run_id)["manifest"]
    return manifest


async def test_same_settings_share_one_index_and_a_second_run_reuses_it(
        three_stacks: tuple[dict[str, Stack], Path], tmp_path: Path) -> None:
    stacks, state = three_stacks
    notes: list[str] = []
    with Store(tmp_path / "runs.db") as store:
        first = await _run(store, stacks, notes)
        indexes = first["indexes"]
        assert isinstance(indexes, dict)
        assert indexes["a"] == indexes["b"] != indexes["c"]
        assert all(isinstance(k, str) and len(k) == 64 for k in indexes.values())
        assert "built" in notes[0] and "reused" in notes[1] and "built" in notes[2], notes
        assert sorted(p.name for p in (state / "indexes").iterdir() if p.is_dir()) == \
            sorted({str(k) for k in indexes.values()})

        notes.clear()
        second = await _run(store, stacks, notes)
    assert second["indexes"] == indexes
    assert all("reused" in n for n in notes), notes
