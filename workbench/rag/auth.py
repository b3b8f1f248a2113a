"""Bearer-key protection of the RAG service, and the rule for binding beyond loopback.

A service bound to a non-loopback address is reachable by anyone on the network, and its
`/index` rewrites indexes and `/ask` spends engine time: it must then require a key.
The key comes from `WORKBENCH_API_KEY`; it is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send

#: Environment variable holding the RAG service's API key.
API_KEY_ENV = "WORKBENCH_API_KEY"
#: Requests (method, path) that never need the key: liveness checks.
OPEN_ROUTES = frozenset({("GET", "/health"), ("HEAD", "/health")})


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, api_key: str | None) -> None:
    """Raise ValueError when `host` is not loopback and no API key is configured."""
    if not is_loopback(host) and not api_key:
        raise ValueError(
            f"refusing to bind {host}: a RAG service reachable beyond this machine needs an "
            f"API key; set {API_KEY_ENV} (clients send `Authorization: Bearer <key>`), or "
            "bind 127.0.0.1"
        )


class BearerAuth:
    """ASGI middleware: every request but GET /health needs `Authorization: Bearer <key>`.

    Pure ASGI (not BaseHTTPMiddleware) so streamed answers pass through untouched.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in OPEN_ROUTES:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {
            "type": "unauthorized",
            "message": "missing or wrong API key: send `Authorization: Bearer <key>`",
        }}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]})
        await send({"type": "http.response.body", "body": body})
