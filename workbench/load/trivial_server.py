"""A trivial, fast OpenAI-compatible streaming endpoint, for measuring the load CLIENT only.

It answers every `POST .../chat/completions` (and `.../completions`) with the same fixed
stream: three content chunks, a usage chunk and `[DONE]`, with no model behind it. Its only
job is to be cheap enough that the load generator, not the server, is the bottleneck, so
`workbench/bench/load.py` can measure how many requests per second one client process
sustains and how late it sends them. Never use its numbers as engine numbers.

Raw asyncio streams rather than a web framework: a framework costs more CPU per request
than the client under test, and on a 2-core machine that would hide the client's limit.
Run it in its own process: `python -m workbench.load.trivial_server --port P`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

MODEL = "trivial"


def _sse_body() -> bytes:
    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        data = {"object": "chat.completion.chunk", "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(data).encode() + b"\n\n"

    usage = {"object": "chat.completion.chunk", "model": MODEL, "choices": [],
             "usage": {"prompt_tokens": 8, "completion_tokens": 3, "total_tokens": 11}}
    return (chunk({"role": "assistant", "content": "Hello"}) + chunk({"content": ","})
            + chunk({"content": " world"}, "length")
            + b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")


BODY = _sse_body()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: "
    + str(len(BODY)).encode() + b"\r\nconnection: keep-alive\r\n\r\n" + BODY
)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"
HEALTH = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
    b'{"status":"ok"}'
)


async def read_raw_request(reader: asyncio.StreamReader) -> bytes:
    """Read one HTTP/1.1 request, its head and its `content-length` body, as the bytes
    sent. Raises `asyncio.IncompleteReadError` when the client has gone."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head + (await reader.readexactly(length) if length else b"")


async def read_request(reader: asyncio.StreamReader) -> str:
    """Read one HTTP/1.1 request (its body discarded) and return its path. Raises
    `asyncio.IncompleteReadError` when the client has gone."""
    return (await read_raw_request(reader)).split(b" ", 2)[1].decode()


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer requests on one keep-alive connection until the client closes it."""
    try:
        while True:
            path = (await read_request(reader)).encode()
            if path.endswith(b"/completions"):
                writer.write(RESPONSE)
            elif path == b"/health":
                writer.write(HEALTH)
            else:
                writer.write(NOT_FOUND)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve forever on host:port (loopback only by default)."""
    server = await asyncio.start_server(_serve_connection, host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    """`python -m workbench.load.trivial_server --port P`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1",
                        help="A loopback address (127.0.0.2 stands in for another machine).")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.host))


if __name__ == "__main__":
    main()
