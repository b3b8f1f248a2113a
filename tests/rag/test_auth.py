"""API-key protection of the RAG service: 401 without the key, /health open, the key
never logged nor stored in a manifest, and no non-loopback bind without a key."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.rag.conftest import LiveServer, closed_port_url, make_stack
from workbench.rag.__main__ import main as rag_main
from workbench.rag.auth import API_KEY_ENV, check_bind, is_loopback
from workbench.rag.service import create_app

KEY = "wb-test-key-9f2c41d7e3"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Every route the service has, with a request cheap enough to reach the handler.
PROTECTED = [
    ("POST", "/index", {"json": {"space_id": "s", "passages": []}}),
    ("GET", "/search", {"params": {"q": "x", "space_id": "nope"}}),
    ("POST", "/ask", {"json": {"q": "x", "space_id": "nope"}}),
    ("POST", "/ask/stream", {"json": {"q": "x", "space_id": "nope"}}),
    ("GET", "/openapi.json", {}),
    ("GET", "/docs", {}),
]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = create_app(make_stack(closed_port_url()), tmp_path, qdrant_location=":memory:",
                     api_key=KEY)
    return TestClient(app)


@pytest.mark.parametrize(("method", "path", "kw"), PROTECTED, ids=[p for _, p, _ in PROTECTED])
def test_every_endpoint_needs_the_key(client: TestClient, method: str, path: str,
                                      kw: dict[str, object]) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY},
                    {"Authorization": f"Basic {KEY}"}):
        resp = client.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
        assert resp.status_code == 401, (headers, resp.text)
        assert resp.headers["www-authenticate"] == "Bearer"
        assert resp.json()["error"]["type"] == "unauthorized"
        assert KEY not in resp.text
    resp = client.request(method, path, headers=AUTH, **kw)  # type: ignore[arg-type]
    assert resp.status_code != 401, resp.text


def test_health_is_open(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/health", headers=AUTH).status_code == 200
    # Only GET /health: another method on it, or a look-alike path, is still protected.
    assert client.post("/health").status_code == 401
    assert client.get("/health/../search", params={"q": "x"}).status_code == 401


def test_no_key_means_open_on_loopback(tmp_path: Path) -> None:
    app = create_app(make_stack(closed_port_url()), tmp_path, qdrant_location=":memory:")
    with TestClient(app) as c:
        assert c.get("/openapi.json").status_code == 200


def test_key_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn's access and error logs and ours, at debug level, over a real socket."""
    app = create_app(make_stack(closed_port_url()), tmp_path, qdrant_location=":memory:",
                     api_key=KEY)
    server = LiveServer(app)
    # log_config=None: uvicorn's loggers propagate to pytest's capture instead of stderr.
    server.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=server.port,
                                                  log_level="debug", access_log=True,
                                                  log_config=None))
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    # uvicorn's default config (applied by any earlier Config) stops propagation.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    caplog.set_level(logging.DEBUG)
    with server:
        for headers in (AUTH, {"Authorization": f"Bearer {KEY}x"}, {}):
            httpx.get(f"{server.url}/search", params={"q": "x", "space_id": "nope"},
                      headers=headers)
            httpx.post(f"{server.url}/ask/stream", json={"q": "x", "space_id": "nope"},
                       headers=headers)
        httpx.get(f"{server.url}/health", headers=AUTH)
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert access, "the access log was not captured, so this test would prove nothing"
    assert any("401" in r.getMessage() for r in access)
    assert KEY not in caplog.text
    assert all(KEY not in r.getMessage() and KEY not in str(r.args) for r in caplog.records)


def test_key_never_in_a_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.runner.manifest import recipe_dump

    monkeypatch.setenv(API_KEY_ENV, KEY)
    stack = make_stack(closed_port_url()).model_copy(update={"env": {API_KEY_ENV: KEY}})
    dumped = json.dumps(recipe_dump(stack))
    assert KEY not in dumped
    assert API_KEY_ENV in dumped  # the name is kept, the value redacted


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_binds_without_a_key(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com"])
def test_non_loopback_needs_a_key(host: str) -> None:
    with pytest.raises(ValueError, match=API_KEY_ENV):
        check_bind(host, None)
    with pytest.raises(ValueError, match="refusing to bind"):
        check_bind(host, "")
    check_bind(host, KEY)


def test_service_refuses_public_bind_without_key(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m workbench.rag` exits before serving; the message names recipe and fix."""
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    recipe = tmp_path / "public.json"
    recipe.write_text(make_stack(closed_port_url()).model_copy(
        update={"host": "0.0.0.0"}).model_dump_json())
    with pytest.raises(SystemExit) as exc:
        rag_main(["--recipe", str(recipe), "--data-dir", str(tmp_path / "idx")])
    assert str(recipe) in str(exc.value.code)
    assert "refusing to bind 0.0.0.0" in str(exc.value.code)
    assert API_KEY_ENV in str(exc.value.code)
    with pytest.raises(SystemExit) as exc:  # --host overrides the recipe, same rule
        rag_main(["--recipe", str(recipe), "--host", "10.1.2.3"])
    assert "refusing to bind 10.1.2.3" in str(exc.value.code)
