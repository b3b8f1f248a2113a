"""The runner's connection backoff, measured on the runner itself against a real closed port:
the real `RagServiceClient` is refused, and the test records when each connection attempt
was made and which sleeps `Runner._ask` asked for. It retries with growing delays, and once
a stack has used up its retries, later requests fail fast until one connects (so a stack
that is really down does not cost the whole budget per request)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import free_port
from tests.rag.conftest import closed_port_url, make_stack
from workbench.rag.service import create_app
from workbench.records.evalset import Question
from workbench.runner.client import RagServiceClient
from workbench.runner.run import Runner, RunOptions
from workbench.runner.stack_client import Answer
from workbench.store.db import Store

Q = Question(id="q1", question="How tall is the Eiffel Tower?")


class TimedClient(RagServiceClient):
    """The real RAG service client, stamping each connection attempt the runner makes."""

    def __init__(self, port: int) -> None:
        stack = make_stack(closed_port_url())
        super().__init__(stack.model_copy(
            update={"ports": stack.ports.model_copy(update={"rag": port})}), timeout_s=10)
        self.attempts: list[float] = []

    async def ask(self, question: str, space_id: str) -> Answer:
        """Stamp the attempt, then ask for real."""
        self.attempts.append(time.perf_counter())
        return await super().ask(question, space_id)

    def gaps(self) -> list[float]:
        """Seconds between consecutive attempts."""
        return [b - a for a, b in itertools.pairwise(self.attempts)]


def runner(tmp_path: Path, clients: dict[str, TimedClient], options: RunOptions) -> Runner:
    return Runner(Store(tmp_path / "wb.db"), "run", dict(clients), "demo", options)


async def test_default_budget_rides_out_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sleeps the runner asks for, recorded without waiting 31.5 s for them.
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        asked.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", record)
    port = free_port()
    client = TimedClient(port)
    answer = await runner(tmp_path, {"A": client}, RunOptions())._ask(Q, "A")
    # The failure names where it went (the RAG service's URL).
    assert answer.status == "error" and answer.error and \
        f"connection to http://127.0.0.1:{port} failed" in answer.error
    assert asked == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]  # one sleep between each of 7 attempts
    assert len(client.attempts) == RunOptions().connect_retries + 1
    assert sum(asked) >= 30  # a RAG service restart takes 5-20 s here


async def test_backs_off_then_fails_fast_while_down(tmp_path: Path) -> None:
    port = free_port()
    a, b = TimedClient(port), TimedClient(port)
    ab = runner(tmp_path, {"A": a, "B": b}, RunOptions(connect_retries=2))
    first = await ab._ask(Q, "B")
    assert first.status == "error" and first.error and \
        f"connection to http://127.0.0.1:{port} failed" in first.error
    # Three attempts, 0.5 s then 1 s apart, measured (the slack covers a busy machine).
    assert len(b.attempts) == 3
    assert all(want <= got < want + 0.4
               for got, want in zip(b.gaps(), (0.5, 1.0), strict=True)), b.gaps()
    started = time.perf_counter()
    second = await ab._ask(Q, "B")
    assert second.status == "error"
    assert len(b.attempts) == 4  # one try, no backoff
    assert time.perf_counter() - started < 0.4
    # The other stack keeps its full budget.
    await ab._ask(Q, "A")
    assert len(a.attempts) == 3
    assert all(want <= got < want + 0.4
               for got, want in zip(a.gaps(), (0.5, 1.0), strict=True)), a.gaps()


async def test_comes_back_when_the_service_does(tmp_path: Path) -> None:
    """A service that starts listening during the backoff is reached by a retry."""
    port = free_port()
    client = TimedClient(port)
    ab = runner(tmp_path, {"B": client}, RunOptions(connect_retries=4))  # 0.5 + 1 + 2 + 4 s
    app = create_app(make_stack(closed_port_url()), tmp_path / "idx", qdrant_location=":memory:")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    timer = threading.Timer(1.0, thread.start)  # refused at first, listening 1 s later
    timer.start()
    try:
        answer = await ab._ask(Q, "B")
    finally:
        timer.join()
        server.should_exit = True
        thread.join(timeout=10)
    # Refused at 0 s and 0.5 s, then reached by a later retry: whatever the service
    # answered (no such space), the connection was not refused.
    assert len(client.attempts) >= 3
    assert answer.error is None or "failed: ConnectError" not in answer.error
    assert answer.http_status is not None
