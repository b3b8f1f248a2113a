"""Two real RAG services (our own, `python -m workbench.rag`) in front of one real llama.cpp.

Both sides share the engine so runner tests stay cheap; what the runner measures and
stores is the same as with two engines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from workbench.settings import PROJECT_ROOT
from workbench.stacks.recipe import get_stack


def start_rag_service(
    name: str, engine_url: str, workdir: Path
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start our RAG service for a copy of the llamacpp-cpu recipe renamed `name`."""
    base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
    port = free_port()
    engine_port = int(engine_url.rsplit(":", 1)[1].split("/")[0])
    stack = base.model_copy(update={"name": name}).with_ports(port, engine_port)
    recipe = workdir / f"{name}.json"
    recipe.write_text(stack.model_dump_json())
    log = workdir / f"{name}.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WORKBENCH_STATE_DIR": str(workdir / "state")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.rag", "--recipe", str(recipe),
             "--data-dir", str(workdir / name)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"RAG service {name} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url, recipe
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"RAG service {name} not healthy in 120 s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def rag_pair(
    llama_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Stacks `side-a` and `side-b` as recipe files in a stacks folder; yields env for the CLI."""
    work = tmp_path_factory.mktemp("ragpair")
    stacks_dir = work / "stacks"
    stacks_dir.mkdir()
    procs = []
    for name in ("side-a", "side-b"):
        proc, _url, recipe = start_rag_service(name, llama_server, work)
        procs.append(proc)
        # A recipe folder the CLI resolves by name (JSON is valid YAML).
        (stacks_dir / f"{name}.yaml").write_text(recipe.read_text())
    try:
        yield {"WORKBENCH_STACKS_DIR": str(stacks_dir), "WORKBENCH_STATE_DIR": str(work / "state")}
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
