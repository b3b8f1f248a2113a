"""The load driver and its HTTP client against the real trivial endpoint (a separate process)."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest

from workbench.load.client import EngineTarget
from workbench.load.driver import run_point
from workbench.load.http import Endpoint, LoadTargetError, LoopbackClient
from workbench.load.metrics import summarize
from workbench.load.prompts import synthetic_prompts
from workbench.records.responses import PointSpec

PROMPTS = synthetic_prompts(4, 8, output_len=3)


def _max_in_flight(records: list) -> int:  # type: ignore[type-arg]
    events = sorted(itertools.chain.from_iterable(
        ((r.timing.request_start, 1), (r.timing.request_end, -1)) for r in records))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


async def test_concurrency_limit_and_usage_tokens(trivial_url: str) -> None:
    target = EngineTarget("t", trivial_url, "trivial")
    try:
        run = await run_point(target, PROMPTS, PointSpec(requests=300, concurrency=8))
    finally:
        await target.aclose()
    assert len(run.records) == 300 and all(r.status == "ok" for r in run.records)
    assert _max_in_flight(run.records) <= 8
    first = run.records[0]
    assert first.completion_tokens == 3 and first.tokens_from == "usage"
    assert first.prompt_tokens == 8 and first.answer == "Hello, world"
    assert len(first.timing.token_times) == 3


async def test_constant_rate_follows_schedule(trivial_url: str) -> None:
    target = EngineTarget("t", trivial_url, "trivial")
    spec = PointSpec(requests=40, rate=100.0, burstiness=math.inf)
    try:
        run = await run_point(target, PROMPTS, spec)
    finally:
        await target.aclose()
    dues = [r.due - run.started for r in run.records]
    assert dues == pytest.approx([i * 0.01 for i in range(40)], abs=1e-9)
    summary = summarize(spec, run.records, run.duration_s)
    # Loose bound: the machine is shared; bench/load.py measures the real figure.
    lag = summary.send_lag
    assert lag is not None and lag.p50 is not None and lag.p50 < 0.020  # seconds
    assert run.duration_s == pytest.approx(0.39, abs=0.2)


async def test_point_is_bounded_by_max_seconds(trivial_url: str) -> None:
    target = EngineTarget("t", trivial_url, "trivial")
    spec = PointSpec(requests=1000, rate=20.0, burstiness=math.inf, max_seconds=0.2)
    try:
        run = await run_point(target, PROMPTS, spec)
    finally:
        await target.aclose()
    assert run.stopped_early and 3 <= len(run.records) <= 6


async def test_connection_refused_is_an_error_record() -> None:
    from tests.conftest import free_port

    target = EngineTarget("t", f"http://127.0.0.1:{free_port()}/v1", "m")
    run = await run_point(target, PROMPTS, PointSpec(requests=2, concurrency=1))
    assert [r.status for r in run.records] == ["error", "error"]
    assert "Connect" in (run.records[0].error or "") or "refused" in (run.records[0].error or "")


def test_only_loopback_targets() -> None:
    assert Endpoint.parse("http://localhost:8080/v1") == Endpoint("127.0.0.1", 8080, "/v1")
    for bad in ("https://127.0.0.1:1/v1", "http://10.0.0.1:80/v1", "http://example.com/v1"):
        with pytest.raises(LoadTargetError):
            Endpoint.parse(bad)


async def test_chunked_sse_split_across_reads() -> None:
    """A hand-written chunked SSE response (CRLF lines, events split mid-line across chunks),
    served by a few lines of asyncio: checks our parser, which real servers exercise less."""
    body_parts = [b"event: token\r\ndata: {\"te", b"xt\": \"a\"}\r", b"\n\r\n",
                  b"data: [DONE]\r\n\r\n"]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in body_parts) + b"0\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunked)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = LoopbackClient(Endpoint("127.0.0.1", port, ""))
    async with server, client.request("POST", "/x", b"{}") as resp:
        events = [(e.event, e.data) async for e in resp.events()]
    await client.aclose()
    assert events == [("token", '{"text": "a"}'), ("message", "[DONE]")]


async def test_server_closing_after_each_stream_is_not_an_error() -> None:
    """llama-server closes the connection after every streamed response although it sends
    `Keep-Alive`; this few-line asyncio server does the same, so reuse must fall back to a
    fresh connection instead of failing the request."""
    body = b'data: {"choices":[{"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n'

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\n"
                     b"content-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = EngineTarget("t", f"http://127.0.0.1:{port}/v1", "m")
    async with server:
        run = await run_point(target, PROMPTS, PointSpec(requests=12, concurrency=2))
    await target.aclose()
    assert [r.status for r in run.records] == ["ok"] * 12, {r.error for r in run.records}
