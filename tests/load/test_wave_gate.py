"""The wave gate holds POSTs until a wave is complete, then hands them on together; other
requests pass at once. Real loopback sockets: a recording upstream, the gate, raw clients."""

from __future__ import annotations

import asyncio
import time

from workbench.load.wave_gate import WaveGate


async def _upstream(arrivals: list[tuple[float, bytes]]) -> asyncio.Server:
    """Records when each request head arrived and answers it, then closes (as llama-server
    does after a streamed answer)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        arrivals.append((time.perf_counter(), head.split(b" ", 2)[1]))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _send(port: int, method: str, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"x": 1}' if method == "POST" else b""
    writer.write(f"{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n"
                 .encode() + body)
    answer = await reader.read()  # until the gate closes (the upstream closed)
    writer.close()
    return answer


async def _scenario() -> tuple[list[tuple[float, bytes]], list[int], float]:
    arrivals: list[tuple[float, bytes]] = []
    upstream = await _upstream(arrivals)
    gate = WaveGate("127.0.0.1", upstream.sockets[0].getsockname()[1], wave=3, hold_s=2.0)
    front = await asyncio.start_server(gate.handle, "127.0.0.1", 0)
    port = front.sockets[0].getsockname()[1]
    t0 = time.perf_counter()
    first = [asyncio.create_task(_send(port, "POST", f"/p{i}")) for i in range(2)]
    await asyncio.sleep(0.2)
    health = await _send(port, "GET", "/health")  # not held while two POSTs wait
    assert health.endswith(b"ok")
    third = asyncio.create_task(_send(port, "POST", "/p2"))  # completes the wave
    answers = await asyncio.gather(*first, third)
    assert all(a.endswith(b"ok") for a in answers)
    lone = await _send(port, "POST", "/alone")  # a short wave goes after hold_s
    assert lone.endswith(b"ok")
    front.close()
    upstream.close()
    return [(t - t0, p) for t, p in arrivals], gate.released, time.perf_counter() - t0


def test_gate_releases_whole_waves() -> None:
    arrivals, released, _ = asyncio.run(_scenario())
    paths = [p for _, p in arrivals]
    assert paths[0] == b"/health"  # passed straight through, ahead of the held POSTs
    times = {p: t for t, p in arrivals}
    # The two early POSTs reached the server only when the third arrived (>= 0.2 s), at
    # once (long before the 2 s hold ran out), and all three within a few ms of each other.
    assert min(times[b"/p0"], times[b"/p1"]) >= 0.2
    assert max(times[b"/p0"], times[b"/p1"], times[b"/p2"]) < 1.0
    assert max(times[b"/p0"], times[b"/p1"], times[b"/p2"]) - min(
        times[b"/p0"], times[b"/p1"], times[b"/p2"]) < 0.05
    # The lone POST waited for hold_s (2 s) with no wave to complete it.
    assert times[b"/alone"] - times[b"/p2"] >= 1.9
    assert released == [3, 1]
