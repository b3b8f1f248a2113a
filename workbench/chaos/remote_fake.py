"""A FAKE remote RAG backend of the seed shape that breaks on demand, for the chaos lab.

No real backend can be made to send malformed JSON or SSE, or reset a connection, at a
chosen moment, so this one stands in for the users' own backend (docs/architecture.md,
"Compatibility": `POST /ask {"q", "space_id", "top_k"}` -> `{"answer", "sources", "model"}`,
`GET /health`) and, for a stack with `external.stream`, `POST /ask/stream` as server-sent
events in the seed's style (`data: {"type": "token", "text": ...}`, then `done`). It runs on
raw asyncio sockets in a thread of the lab's process, bound to a loopback alias
(127.0.0.3) that stands in for another machine, so it controls every byte it sends:

- `ok`: a well-formed answer;
- `bad_json`: HTTP 200 `application/json` whose body is cut mid-object;
- `bad_sse`: an event stream whose second event's data is not JSON;
- `reset`: reads the request, then closes with SO_LINGER 0 (the peer sees a TCP RST).

`healthy_requests` answers that many asks well before `mode` applies (a fault mid-run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from typing import Literal

from workbench.load.trivial_server import read_request

Mode = Literal["ok", "bad_json", "bad_sse", "reset"]
_ANSWER = {"answer": "The answer is in the documents.", "model": "fake-remote",
           "sources": [{"doc_id": "doc1_0a1b2c3d", "chunk_index": 0, "doc_type": "t"}]}


def _http(status: str, ctype: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


def _sse(events: list[str]) -> bytes:
    return "".join(f"data: {e}\n\n" for e in events).encode()


class RemoteFake:
    """The breakable backend; `start()` serves it in a thread, `url` is its base URL."""

    def __init__(self, host: str = "127.0.0.3") -> None:
        self.host = host
        self.mode: Mode = "ok"
        self.healthy_requests = 0
        #: Asks (`/ask`, `/ask/stream`) served so far, and how many of them were broken.
        self.asks = 0
        self.broken = 0
        #: Asks received so far by route (`/ask`, `/ask/stream`), broken or not.
        self.asks_by_route: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        with socket.socket() as s:
            s.bind((host, 0))
            self.port = int(s.getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL of the backend."""
        return f"http://{self.host}:{self.port}"

    def fail(self, mode: Mode, after: int = 0) -> None:
        """Break the way `mode` says from the ask after the next `after` ones on."""
        self.healthy_requests = self.asks + after
        self.mode = mode

    def _answer(self, path: str) -> bytes | None:
        broken = self.asks >= self.healthy_requests and self.mode != "ok"
        self.asks += 1
        self.broken += broken
        stream = path.startswith("/ask/stream")
        route = "/ask/stream" if stream else "/ask"
        self.asks_by_route[route] = self.asks_by_route.get(route, 0) + 1
        if broken and self.mode == "reset":
            return None
        if broken and self.mode == "bad_json":
            return _http("200 OK", "application/json", b'{"answer": "The ans')
        if broken and self.mode == "bad_sse":
            return _http("200 OK", "text/event-stream", _sse(
                ['{"type": "token", "text": "The"}', "{garbage"]))
        if stream:
            return _http("200 OK", "text/event-stream", _sse([
                json.dumps({"type": "sources", "sources": _ANSWER["sources"]}),
                json.dumps({"type": "token", "text": "The answer"}),
                json.dumps({"type": "token", "text": " is in the documents."}),
                json.dumps({"type": "done", **_ANSWER})]))
        return _http("200 OK", "application/json", json.dumps(_ANSWER).encode())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            path = await read_request(reader)
            if path.startswith("/health"):
                out: bytes | None = _http("200 OK", "application/json", b'{"status":"ok"}')
            elif path.startswith("/ask"):
                out = self._answer(path)
            else:
                out = _http("404 Not Found", "application/json", b"{}")
            if out is None:
                sock = writer.get_extra_info("socket")
                # SO_LINGER on, 0 s: close() discards the buffers and sends RST, not FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            writer.write(out)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def start(self) -> RemoteFake:
        """Serve in a daemon thread until `stop()`."""
        ready = threading.Event()

        async def main() -> None:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
            ready.set()
            async with self._server:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._server.serve_forever()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            with contextlib.suppress(RuntimeError):  # stopped from another thread
                self._loop.run_until_complete(main())

        self._thread = threading.Thread(target=run, name="remote-fake", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"the fake remote backend did not start on {self.url}")
        return self

    def stop(self) -> None:
        """Stop serving (connections are refused afterwards)."""
        if self._loop is not None and self._server is not None:
            # close() also ends serve_forever (it cancels the future that waits on it).
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=10)
