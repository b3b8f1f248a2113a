"""Our RAG service as its own process (`python -m workbench.rag --recipe FILE`): the one way
the launcher, the RAG bench, the chaos lab and the tests start it.

Its own process, never a thread beside whoever sends it requests: a user's stack does not
share a GIL with its clients, so neither may a bench's or a test's.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from workbench.stacks.process import Server
from workbench.stacks.recipe import Stack

#: Seconds a RAG service may take to answer /health (it loads the embedder and its indexes).
RAG_HEALTH_TIMEOUT_S = 180.0


def rag_service_argv(recipe: Path, data_dir: Path | None = None,
                     extra_args: Sequence[str] = ()) -> list[str]:
    """The command line: this interpreter, the recipe file (JSON is valid YAML) and, when
    given, the folder its indexes live in."""
    argv = [sys.executable, "-m", "workbench.rag", "--recipe", str(recipe)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    return [*argv, *extra_args]


def rag_service(
    stack: Stack,
    recipe: Path,
    log: Path,
    *,
    state_dir: Path,
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout_s: float = RAG_HEALTH_TIMEOUT_S,
) -> Server:
    """The RAG service of `stack`, served from the recipe file `recipe` (not yet started:
    use `with`, or `start()` and later `stop()`/`restart()`).

    `state_dir` is passed as WORKBENCH_STATE_DIR, so the service sees the caller's folders
    whatever its working directory; the hub stays offline (the embedder is packaged).
    """
    return Server(
        name=f"RAG service of stack {stack.name!r}",
        argv=rag_service_argv(recipe, data_dir, extra_args),
        health_url=f"{stack.rag_url}/health",
        log=log,
        env={"HF_HUB_OFFLINE": "1", "WORKBENCH_STATE_DIR": str(state_dir), **(env or {})},
        timeout_s=timeout_s,
        # On SIGTERM uvicorn finishes the requests in flight and runs the app's shutdown
        # (closing its indexes): time for that before SIGKILL.
        grace_s=30.0,
    )
