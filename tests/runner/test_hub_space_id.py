"""An eval set named after a hub repo id (`owner/name`) is indexed and asked in a space id
the RAG service accepts (it refuses `/`), the same space on both sides."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from workbench.evalsets.digest import evalset_digest
from workbench.records.evalset import EvalSet, Question
from workbench.records.passage import Passage
from workbench.records.rag import AskRequest, IndexRequest
from workbench.records.responses import RequestTiming
from workbench.runner import session
from workbench.runner.run import RunOptions
from workbench.runner.stack_client import Answer
from workbench.stacks.recipe import Stack
from workbench.store.db import Store

PASSAGES = [Passage(id="p1", title="t", text="Paris is the capital of France.")]
QUESTIONS = [Question(id=f"q{i}", question=f"question {i}?", answers=["x"]) for i in range(2)]


class ContractClient:
    """Checks each request body against the RAG service's own request models."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.spaces: list[str] = []

    async def prepare(self, space_id: str, passages: list[dict[str, Any]]) -> str:
        IndexRequest.model_validate({"space_id": space_id, "passages": passages})
        self.spaces.append(space_id)
        return "indexed"

    async def ask(self, question: str, space_id: str) -> Answer:
        AskRequest(q=question, space_id=space_id)
        self.spaces.append(space_id)
        now = time.perf_counter()
        timing = RequestTiming(request_start=now, first_token=now, last_token=now,
                               request_end=now, started_at_utc=datetime.now(UTC).isoformat())
        return Answer(status="ok", timing=timing, answer="x", completion_tokens=1)

    async def aclose(self) -> None:
        return None


def _stack(name: str, port: int) -> Stack:
    return Stack.model_validate({"name": name, "engine": "llamacpp", "model": {"name": "m"},
                                 "ports": {"rag": port, "engine": port + 1}})


async def test_hub_named_evalset_uses_an_accepted_space_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evalset = EvalSet(name="google/xquad", passages=PASSAGES, questions=QUESTIONS,
                      digest=evalset_digest(PASSAGES, QUESTIONS), source="hf:google/xquad")
    stacks: dict[str, Stack] = {"a": _stack("a", 20000), "b": _stack("b", 20002)}
    clients: dict[str, ContractClient] = {}

    def client_for(stack: Stack, timeout_s: float) -> ContractClient:
        clients[stack.name] = ContractClient(stack)
        return clients[stack.name]

    monkeypatch.setattr(session, "client_for", client_for)
    with Store(tmp_path / "runs.db") as store:
        run_id = store.create_run(
            evalset=evalset.name, evalset_digest=evalset.digest, schedule="interleaved",
            stacks=[{"name": "a"}, {"name": "b"}], questions=QUESTIONS,
            manifest={}, limit=None)
        prepared = session.PreparedRun(run_id, evalset, QUESTIONS, stacks,
                                       RunOptions(warmup=0))
        progress = await session.execute(store, prepared)
    assert progress.done == 2 * len(QUESTIONS)
    used = {space for client in clients.values() for space in client.spaces}
    assert used == {evalset.space_id}
    assert evalset.space_id.startswith("google--xquad-")
