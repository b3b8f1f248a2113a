"""Two real RAG services (our own, `python -m workbench.rag`) in front of one real llama.cpp.

Both sides share the engine so runner tests stay cheap; what the runner measures and
stores is the same as with two engines. The services start as the launcher starts a
stack's (`workbench.stacks.rag_service`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import free_port
from workbench.settings import PROJECT_ROOT
from workbench.stacks.process import LaunchError, Server
from workbench.stacks.rag_service import rag_service
from workbench.stacks.recipe import get_stack


def start_rag_service(name: str, engine_url: str, workdir: Path) -> tuple[Server, Path]:
    """Start our RAG service for a copy of the llamacpp-cpu recipe renamed `name`; returns
    the running service and its recipe file."""
    base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
    engine_port = int(engine_url.rsplit(":", 1)[1].split("/")[0])
    stack = base.model_copy(update={"name": name}).with_ports(free_port(), engine_port)
    recipe = workdir / f"{name}.json"
    recipe.write_text(stack.model_dump_json())
    service = rag_service(stack, recipe, workdir / f"{name}.log", state_dir=workdir / "state",
                          data_dir=workdir / name, timeout_s=120)
    try:
        service.start()
    except LaunchError as exc:
        pytest.fail(str(exc))
    return service, recipe


@pytest.fixture(scope="session")
def rag_pair(
    llama_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Stacks `side-a` and `side-b` as recipe files in a stacks folder; yields env for the CLI."""
    work = tmp_path_factory.mktemp("ragpair")
    stacks_dir = work / "stacks"
    stacks_dir.mkdir()
    with ExitStack() as running:
        for name in ("side-a", "side-b"):
            service, recipe = start_rag_service(name, llama_server, work)
            running.enter_context(service)  # stopped (its whole group) when the session ends
            # A recipe folder the CLI resolves by name (JSON is valid YAML).
            (stacks_dir / f"{name}.yaml").write_text(recipe.read_text())
        yield {"WORKBENCH_STACKS_DIR": str(stacks_dir), "WORKBENCH_STATE_DIR": str(work / "state")}
