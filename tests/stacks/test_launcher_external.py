"""An external RAG backend is checked, recorded and reported, never started or stopped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.stacks.process import LaunchError
from workbench.stacks.recipe import Stack, get_stack
from workbench.stacks.status import status


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def external_on(port: int, settings: Settings) -> Stack:
    stack = get_stack("external", settings.stacks_dir)
    assert stack.external is not None
    ext = stack.external.model_copy(update={"url": f"http://127.0.0.1:{port}"})
    return stack.model_copy(update={"external": ext})


def test_external_up_status_down(settings: Settings, backend: int) -> None:
    stack = external_on(backend, settings)
    running = launcher.up(stack, settings)
    assert running.state.processes == [] and running.rag_url == f"http://127.0.0.1:{backend}"
    [st] = status(settings)
    assert st.state == "running" and st.rag_health == "up" and st.engine_health == "n/a"
    assert launcher.running_stack("external", settings) is not None
    assert launcher.down(None, settings) == ["external"]


def test_external_unreachable(settings: Settings) -> None:
    from tests.conftest import free_port

    with pytest.raises(LaunchError, match="does not answer"):
        launcher.up(external_on(free_port(), settings), settings)
