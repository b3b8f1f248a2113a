"""A loopback TCP gate that hands a server each wave of POST requests at once.

Why: at concurrency c a closed-loop client sends a wave of c requests whenever the previous
wave ends (with equal output lengths, all end in the same step). llama.cpp (like any
continuous-batching server) starts prefilling whatever has arrived when it wakes; requests
that come a few ms later wait for the next prefill. So how a wave's time splits into TTFT and
TPOT depends on how tightly the client sent it: the first k requests of a wave get a short
TTFT and then wait through the others' prefill between two tokens (a long TPOT). Two clients
that send the same wave 1 ms or 15 ms wide therefore measure different TTFT/TPOT splits of
the same E2E, though both stamp correctly. For the cross-check against `vllm bench serve`
(`workbench/bench/load.py`) the gate removes that difference: it holds each POST until
`wave` of them are waiting (or `hold_s` passed since the first), then forwards them all
together, so the server sees the same arrivals whichever client sent them. Each request's
wait at the gate is inside the TTFT its client stamps (a wave's spread, milliseconds).
Everything else (GETs; later requests on a reused connection) passes straight through.

Run it in its own process, so forwarding bytes never competes for the measuring client's
GIL: `python -m workbench.load.wave_gate --upstream-port P --port Q --wave 16`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from workbench.load.trivial_server import read_raw_request


class WaveGate:
    """Holds POSTs until `wave` are waiting (or `hold_s` after the first), then releases them."""

    def __init__(self, upstream_host: str, upstream_port: int, wave: int,
                 hold_s: float = 1.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.wave = wave
        self.hold_s = hold_s
        self._waiting: list[asyncio.Event] = []
        self._timer: asyncio.TimerHandle | None = None
        #: Sizes of the waves released, in order (what the server was handed together).
        self.released: list[int] = []

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting:
            self.released.append(len(self._waiting))
        for event in self._waiting:
            event.set()
        self._waiting = []

    async def wait_turn(self) -> None:
        """Wait until this request's wave is complete (or held long enough)."""
        event = asyncio.Event()
        self._waiting.append(event)
        if len(self._waiting) >= self.wave:
            self._release()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.hold_s, self._release)
        await event.wait()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: gate its first request if it is a POST, then pipe bytes."""
        try:
            request = await read_raw_request(reader)
            if request.startswith(b"POST "):
                await self.wait_turn()
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, ValueError):
            writer.close()
            return
        up_writer.write(request)
        await asyncio.gather(_pipe(up_reader, writer), _pipe(reader, up_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until the reading side ends, then close the writing side."""
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.close()


async def serve(port: int, gate: WaveGate, host: str = "127.0.0.1") -> None:
    """Listen on `host:port` (loopback) until cancelled."""
    server = await asyncio.start_server(gate.handle, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    """`python -m workbench.load.wave_gate --upstream-port P --port Q --wave N`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--wave", type=int, required=True)
    parser.add_argument("--hold-s", type=float, default=1.0)
    ns = parser.parse_args()
    gate = WaveGate("127.0.0.1", ns.upstream_port, ns.wave, ns.hold_s)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(ns.port, gate))


if __name__ == "__main__":
    main()
