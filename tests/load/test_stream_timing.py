"""Where the client stamps TTFT, token times and E2E on a streamed chat completion, against
a few-line asyncio server that writes llama.cpp's chunk sequence with pauses between the
writes (so each write arrives in its own read, at a known time)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from workbench.load.client import EngineTarget
from workbench.load.metrics import e2e_s, itl_s, tpot_s, ttft_s
from workbench.load.prompts import synthetic_prompts
from workbench.records.responses import PointSpec


def _event(choices: list[dict[str, object]], **extra: object) -> bytes:
    return b"data: " + json.dumps({"choices": choices, **extra}).encode() + b"\n\n"


ROLE = _event([{"index": 0, "delta": {"role": "assistant", "content": None}}])
FINISH = _event([{"index": 0, "delta": {}, "finish_reason": "length"}])
USAGE = _event([], usage={"prompt_tokens": 9, "completion_tokens": 3})


def _token(text: str) -> bytes:
    return _event([{"index": 0, "delta": {"content": text}}])


#: (pause before the write in seconds, bytes): the role-only chunk comes 0.2 s before the
#: first token (vLLM's tool would stamp TTFT there), the finish chunk 0.2 s after the last.
WRITES = [(0.0, ROLE), (0.2, _token("a")), (0.1, _token("b") + _token("")),
          (0.1, _token("c")), (0.2, FINISH), (0.0, USAGE + b"data: [DONE]\n\n")]


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    await reader.readexactly(length)
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                 b"transfer-encoding: chunked\r\n\r\n")
    for pause, data in WRITES:
        await asyncio.sleep(pause)
        writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_ttft_is_the_first_content_chunk_not_the_role_chunk() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = EngineTarget("t", f"http://127.0.0.1:{port}/v1", "m")
    async with server:
        out = await target.send(synthetic_prompts(1, 4, output_len=3)[0])
    await target.aclose()
    assert out.status == "ok", out.error
    t = out.timing
    # Three content chunks (the empty one is not a token), the server's token count.
    assert len(t.token_times) == 3
    assert (out.completion_tokens, out.prompt_tokens, out.tokens_from) == (3, 9, "usage")
    assert out.answer == "abc"
    # TTFT at the first content (0.2 s after the role chunk), not at the role chunk.
    assert t.first_token is not None and t.last_token is not None
    assert t.first_token - t.request_start == pytest.approx(0.2, abs=0.06)
    # Token gaps 0.1, 0.1; E2E ends at the last content chunk, 0.2 s before the finish chunk.
    gaps = [b - a for a, b in zip(t.token_times, t.token_times[1:], strict=False)]
    assert gaps == pytest.approx([0.1, 0.1], abs=0.04)
    assert t.request_end - t.last_token == pytest.approx(0.2, abs=0.06)


async def test_metrics_from_the_stamped_stream() -> None:
    from workbench.load.driver import run_point

    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = EngineTarget("t", f"http://127.0.0.1:{port}/v1", "m")
    started = time.perf_counter()
    async with server:
        run = await run_point(target, synthetic_prompts(1, 4, output_len=3),
                              PointSpec(requests=1))
    await target.aclose()
    assert time.perf_counter() - started >= 0.6
    (r,) = run.records
    # TTFT 0.2, E2E 0.4 (last content), TPOT (0.4 - 0.2) / (3 - 1) = 0.1, ITL 0.1 0.1.
    assert ttft_s(r) == pytest.approx(0.2, abs=0.06)
    assert e2e_s(r) == pytest.approx(0.4, abs=0.08)
    assert tpot_s(r) == pytest.approx(0.1, abs=0.04)
    assert itl_s(r) == pytest.approx([0.1, 0.1], abs=0.04)
