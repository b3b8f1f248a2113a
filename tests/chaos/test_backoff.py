"""The runner's connection backoff against a real closed port: it retries with growing
delays, and once a side has used up its retries, later requests fail fast until one
connects (so a stack that is really down does not cost the whole budget per request)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from tests.conftest import free_port
from tests.rag.conftest import closed_port_url, make_stack
from workbench.evalsets.model import Question
from workbench.rag.service import create_app
from workbench.runner.client import RagServiceClient
from workbench.runner.run import ABRunner, RunOptions
from workbench.store.db import Store

Q = Question(id="q1", question="How tall is the Eiffel Tower?")


def runner(tmp_path: Path, port: int, retries: int) -> ABRunner:
    stack = make_stack(closed_port_url()).model_copy(
        update={"ports": make_stack(closed_port_url()).ports.model_copy(update={"rag": port})})
    client = RagServiceClient(stack, timeout_s=10)
    return ABRunner(Store(tmp_path / "wb.db"), "run", {"A": client, "B": client}, "demo",
                    RunOptions(connect_retries=retries))


def test_default_budget_rides_out_a_restart() -> None:
    delays = [0.5 * 2**i for i in range(RunOptions().connect_retries)]
    assert sum(delays) >= 30  # a RAG service restart takes 5-20 s here


async def test_backs_off_then_fails_fast_while_down(tmp_path: Path) -> None:
    ab = runner(tmp_path, free_port(), retries=2)
    started = time.perf_counter()
    first = await ab._ask(Q, "B")
    took = time.perf_counter() - started
    assert first.status == "error" and first.error and "connection failed" in first.error
    assert 1.4 <= took < 10  # 0.5 s + 1 s of backoff
    started = time.perf_counter()
    second = await ab._ask(Q, "B")
    assert second.status == "error"
    assert time.perf_counter() - started < 1.0  # one try, no backoff
    # The other side keeps its full budget.
    started = time.perf_counter()
    await ab._ask(Q, "A")
    assert time.perf_counter() - started >= 1.4


async def test_comes_back_when_the_service_does(tmp_path: Path) -> None:
    """A service that starts listening during the backoff is reached by a retry."""
    port = free_port()
    ab = runner(tmp_path, port, retries=4)  # 0.5 + 1 + 2 + 4 s
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
    # It connected: whatever the service answered (no such space), it was not refused.
    assert answer.error is None or "connection failed" not in answer.error
    assert answer.http_status is not None
