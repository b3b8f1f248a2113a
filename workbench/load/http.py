"""A minimal HTTP/1.1 client on raw asyncio streams, for loopback load generation only.

Why not httpx: measured here against a trivial local endpoint, httpx's async client
tops out near 200 streamed requests/s on one core, while the same loop on raw asyncio
streams does several thousand. A load generator that is slower than the server measures
itself, so the request path is kept this small: keep-alive connections per target,
`Content-Length`, chunked and read-to-close bodies, each piece timestamped as its network
read arrives (the server-sent events are decoded by `workbench.rag.stream`, the one SSE
decoder of the project, which the runner's httpx client uses too). No TLS and no
redirects: targets are 127.0.0.1, or another host only when the caller was allowed to
send it traffic (`remote_ok`, after `workbench.targets.check_routes`: `--allow-remote`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from workbench.rag.stream import SseEvent, sse_events
from workbench.targets import LOCAL_HOSTS

_READ_SIZE = 65536


class LoadTargetError(ValueError):
    """A target URL is not plain HTTP, or names another machine without consent."""


@dataclass(frozen=True)
class Endpoint:
    """Where requests go: host, port, and the base path (e.g. `/v1`)."""

    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str, *, remote_ok: bool = False) -> Endpoint:
        """Parse `http://127.0.0.1:PORT[/base]` (any host when `remote_ok`); anything else
        is a LoadTargetError."""
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise LoadTargetError(
                f"{url!r}: load targets must be http:// (the load generator's raw client has "
                "no TLS; reach an https server through an SSH tunnel to 127.0.0.1)"
            )
        # This machine's hosts need no consent (`targets.LOCAL_HOSTS`, the one list).
        if parts.hostname not in LOCAL_HOSTS and not remote_ok:
            raise LoadTargetError(
                f"{url!r}: load targets must be on 127.0.0.1 (or localhost); another "
                "machine only with --allow-remote"
            )
        if not parts.hostname:
            raise LoadTargetError(f"{url!r}: no host")
        host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
        return cls(host=host, port=parts.port or 80, base_path=parts.path.rstrip("/"))


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False

    def close(self) -> None:
        self.writer.close()


@dataclass
class Response:
    """A response whose body is read incrementally (then the connection goes back to the pool)."""

    status: int
    headers: dict[str, str]
    _conn: _Conn
    _done: bool = field(default=False)

    async def pieces(self) -> AsyncIterator[tuple[float, bytes]]:
        """Body bytes as they arrive, each with its arrival time."""
        reader = self._conn.reader
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailers
                    break
                data = await reader.readexactly(size)
                await reader.readexactly(2)
                yield time.perf_counter(), data
        elif "content-length" in self.headers:
            remaining = int(self.headers["content-length"])
            while remaining > 0:
                data = await reader.read(min(remaining, _READ_SIZE))
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                remaining -= len(data)
                yield time.perf_counter(), data
        else:
            while data := await reader.read(_READ_SIZE):
                yield time.perf_counter(), data
            self.headers["connection"] = "close"
        self._done = True

    async def read(self) -> bytes:
        """The whole body."""
        return b"".join([piece async for _, piece in self.pieces()])

    def events(self) -> AsyncIterator[SseEvent]:
        """Server-sent events, through the one SSE decoder every client shares (stamped
        when the read that completed each event arrived)."""
        return sse_events(self.pieces())


class LoopbackClient:
    """Keep-alive HTTP/1.1 connections to one loopback endpoint, shared by many requests."""

    def __init__(self, endpoint: Endpoint, *, connect_timeout_s: float = 5.0) -> None:
        self.endpoint = endpoint
        self.connect_timeout_s = connect_timeout_s
        self._idle: list[_Conn] = []
        self._host_header = f"{endpoint.host}:{endpoint.port}".encode()

    async def _connect(self, *, fresh: bool = False) -> _Conn:
        while self._idle and not fresh:
            conn = self._idle.pop()
            # llama-server closes the connection after every streamed response despite its
            # `Keep-Alive` header; its FIN has usually arrived by now, so skip such ones.
            if conn.reader.at_eof() or conn.writer.is_closing():
                conn.close()
                continue
            conn.reused = True
            return conn
        async with asyncio.timeout(self.connect_timeout_s):
            reader, writer = await asyncio.open_connection(
                self.endpoint.host, self.endpoint.port, limit=1 << 20
            )
        return _Conn(reader, writer)

    @contextlib.asynccontextmanager
    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> AsyncIterator[Response]:
        """Send one request; yields the response with its body unread.

        A reused keep-alive connection that the server has meanwhile closed fails before
        any response byte: that case is retried once on a fresh connection (never another
        idle one, which may be just as stale).
        """
        head = (
            f"{method} {self.endpoint.base_path}{path} HTTP/1.1\r\n".encode()
            + b"host: " + self._host_header
            + f"\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
            "accept: text/event-stream, application/json\r\n\r\n".encode()
        )
        for attempt in (1, 2):
            conn = await self._connect(fresh=attempt == 2)
            try:
                conn.writer.write(head + body)
                status_line = await conn.reader.readuntil(b"\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                conn.close()
                if not conn.reused or attempt == 2:
                    raise
        headers: dict[str, str] = {}
        try:
            while (line := await conn.reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            response = Response(int(status_line.split(b" ", 2)[1]), headers, conn)
            yield response
        except BaseException:
            conn.close()
            raise
        if response._done and headers.get("connection", "").lower() != "close":
            self._idle.append(conn)
        else:
            conn.close()  # an unread body would poison the next request on this connection

    async def get(self, path: str) -> tuple[int, bytes]:
        """A GET whose whole body is returned."""
        async with self.request("GET", path) as resp:
            return resp.status, await resp.read()

    async def aclose(self) -> None:
        """Close idle connections."""
        while self._idle:
            self._idle.pop().close()
