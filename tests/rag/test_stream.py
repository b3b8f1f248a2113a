"""The one reader of `/ask/stream` (`workbench.rag.stream`), through both transports.

The runner's client (httpx) and the load bench's (raw asyncio) are sent the same byte
sequence by a few-line asyncio server, written with the service's own `sse()` writer and
schemas and with pauses between the writes (so each write arrives in its own read, at a
known time). Both must read the same answer, sources, status and timestamps. A real RAG
service checks the refusal path of both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.rag.conftest import LiveServer, closed_port_url, make_stack
from workbench.load.client import Outcome, RagTarget
from workbench.load.prompts import LoadPrompt
from workbench.rag.service import create_app, sse
from workbench.rag.stream import sse_events
from workbench.records.rag import (
    AskResponse,
    ErrorBody,
    ErrorDetail,
    Source,
    SourcesEvent,
    Timings,
    TokenEvent,
    Usage,
)
from workbench.runner.client import RagServiceClient
from workbench.runner.stack_client import Answer

SOURCE = Source(doc_id="eiffel", chunk_id="eiffel#0", chunk_index=0, score=0.75,
                text="The Eiffel Tower is 330 metres tall.")
DONE = AskResponse(answer="Paris, 330 m", sources=[SOURCE], timings=Timings(),
                   usage=Usage(prompt_tokens=40, completion_tokens=3), context_tokens=12,
                   model="m", engine="llamacpp")
SPLIT = sse("token", TokenEvent(text=" 330 m"))

#: (pause before the write in seconds, bytes), per question.
SCRIPTS: dict[str, list[tuple[float, bytes]]] = {
    # Retrieval at once, tokens 0.2 s later; an empty piece (no token); the last token split
    # across two reads 0.1 s apart (stamped when its second half arrives); done 0.2 s after.
    "ok": [(0.0, sse("sources", SourcesEvent(sources=[SOURCE], timings=Timings()))),
           (0.2, sse("token", TokenEvent(text="Paris"))),
           (0.1, sse("token", TokenEvent(text=",")) + sse("token", TokenEvent(text=""))),
           (0.1, SPLIT[:9]), (0.1, SPLIT[9:]), (0.2, sse("done", DONE))],
    "engine fails": [(0.0, sse("token", TokenEvent(text="Par"))),
                     (0.05, sse("error", ErrorBody(error=ErrorDetail(
                         type="engine_error", message="engine closed the stream"))))],
    "cut short": [(0.0, sse("token", TokenEvent(text="Par")))],
}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    question = json.loads(await reader.readexactly(length))["q"]
    if question == "engine timeout":  # refused before streaming, as the service does
        body = ErrorBody(error=ErrorDetail(type="engine_timeout", message="engine timed out"))
        data = body.model_dump_json().encode()
        writer.write(b"HTTP/1.1 504 Gateway Timeout\r\ncontent-type: application/json\r\n"
                     b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data))
    else:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                     b"connection: close\r\ntransfer-encoding: chunked\r\n\r\n")
        for pause, data in SCRIPTS[question]:
            await asyncio.sleep(pause)
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    writer.close()


Ask = Callable[[str], Awaitable[Answer | Outcome]]


@pytest.fixture
async def clients() -> AsyncIterator[dict[str, Ask]]:
    """Both clients of the scripted server: the runner's and the load bench's."""
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stack = make_stack(closed_port_url())
    runner = RagServiceClient(stack.with_ports(port, stack.ports.engine), timeout_s=10)
    load = RagTarget("t", f"http://127.0.0.1:{port}", space_id="demo", timeout_s=10)

    async def via_load(q: str) -> Outcome:
        return await load.send(LoadPrompt(id="p", question=q, messages=[]))

    async with server:
        yield {"runner": lambda q: runner.ask(q, "demo"), "load": via_load}
    await runner.aclose()
    await load.aclose()


@pytest.mark.parametrize("client", ["runner", "load"])
async def test_both_clients_stamp_and_read_the_stream_alike(
        clients: dict[str, Ask], client: str) -> None:
    out = await clients[client]("ok")
    assert (out.status, out.error, out.http_status) == ("ok", None, 200)
    assert out.answer == "Paris, 330 m"  # done's answer
    assert (out.prompt_tokens, out.completion_tokens) == (40, 3)
    t = out.timing
    # Three tokens: the empty piece is none; TTFT at the first token, not at the sources.
    assert len(t.token_times) == 3 and t.first_token is not None
    assert t.first_token - t.request_start == pytest.approx(0.2, abs=0.06)
    gaps = [b - a for a, b in zip(t.token_times, t.token_times[1:], strict=False)]
    # The split token is stamped when its second half arrived (0.1 + 0.1 after ",").
    assert gaps == pytest.approx([0.1, 0.2], abs=0.04)
    assert t.request_end - t.token_times[-1] == pytest.approx(0.2, abs=0.06)
    if isinstance(out, Answer):
        assert t.sources_at is not None and t.sources_at - t.request_start < 0.1
        [src] = out.sources
        assert (src.doc_id, src.chunk_id, src.rank, src.score) == ("eiffel", "eiffel#0", 1, 0.75)


@pytest.mark.parametrize("client", ["runner", "load"])
@pytest.mark.parametrize(("question", "status", "http", "message"), [
    ("engine timeout", "timeout", 504, "engine_timeout: engine timed out"),
    ("engine fails", "error", 200, "engine_error: engine closed the stream"),
    ("cut short", "error", 200, "stream ended without a `done` event"),
])
async def test_both_clients_read_failures_alike(
        clients: dict[str, Ask], client: str, question: str, status: str, http: int,
        message: str) -> None:
    out = await clients[client](question)
    assert (out.status, out.http_status, out.error) == (status, http, message)


async def test_decoder_joins_crlf_split_across_reads() -> None:
    async def pieces() -> AsyncIterator[tuple[float, bytes]]:
        for at, data in [(1.0, b"event: token\r"), (2.0, b"\ndata: {}\r\n\r"), (3.0, b"\n")]:
            yield at, data

    events = [(e.at, e.event, e.data) async for e in sse_events(pieces())]
    assert events == [(3.0, "token", "{}")]


async def test_a_real_service_refusal_reads_alike(tmp_path: Path) -> None:
    """A real RAG service (its engine down; an unknown space is refused with 422)."""
    stack = make_stack(closed_port_url())
    app = create_app(stack, tmp_path / "idx", qdrant_location=":memory:", warm=False)
    with LiveServer(app) as server:
        runner = RagServiceClient(stack.with_ports(int(server.url.rsplit(":", 1)[1]),
                                                   stack.ports.engine))
        load = RagTarget("t", server.url, space_id="no-such-space")
        a = await runner.ask("What?", "no-such-space")
        b = await load.send(LoadPrompt(id="p", question="What?", messages=[]))
        await runner.aclose()
        await load.aclose()
    assert (a.status, a.http_status) == (b.status, b.http_status) == ("error", 422)
    assert a.error == b.error and a.error is not None and "space_id" in a.error
