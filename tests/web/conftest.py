"""Fixtures for the web UI tests: temporary stores with a stored two-stack run, a
three-stack run (with constraints) and a run stored before N-stack runs, the app served on
a free port, and a real headless Debian chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port

# The real two-RAG-services-over-llama.cpp fixture, shared with the runner tests.
from tests.runner.conftest import rag_pair  # noqa: F401
from tests.web.legacy import store_old_two_stack_run
from workbench.store.db import Store
from workbench.store.synthetic import STACKS, store_synthetic_run, synthetic_run
from workbench.web.common import WebConfig

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


#: The constraints stored with the three-stack run (as a matrix file records them). A p95
#: SLO is never known to be met at n=40 (its distribution-free bound needs n >= 72).
CONSTRAINTS = {"slo": ["e2e.p50<=2s"], "min": ["f1>=0.2"]}


@pytest.fixture
def stored_run(tmp_path: Path) -> tuple[WebConfig, str]:
    """A temporary database holding one completed 40-question synthetic two-stack run (no
    semantic scorer, so no embedding model is loaded)."""
    db = tmp_path / "web.db"
    with Store(db) as store:
        run_id = store_synthetic_run(store, 40)
    return WebConfig(db=db, semantic=False), run_id


@pytest.fixture
def three_stacks(tmp_path: Path) -> tuple[WebConfig, str]:
    """A database with a 40-question run of three stacks (baseline llamacpp-cpu, a better
    and slower third stack) whose manifest carries an SLO and a minimum F1."""
    db = tmp_path / "three.db"
    with Store(db) as store:
        run_id = store_synthetic_run(store, 40, stacks=3)
        manifest = store.get_run(run_id)["manifest"]
        store.update_manifest(run_id, {**manifest, "choice": CONSTRAINTS})
    return WebConfig(db=db, semantic=False), run_id


@pytest.fixture
def old_run(tmp_path: Path) -> tuple[WebConfig, str]:
    """A database written before N-stack runs (sides A and B), opened by today's store."""
    db = tmp_path / "old.db"
    run_id = store_old_two_stack_run(db, 20)
    return WebConfig(db=db, semantic=False), run_id


#: The run in progress: answers stored so far per stack (of 40), and errors among them.
LIVE_ANSWERED = {"llamacpp-cpu": 30, "vllm-cpu": 18, "llamacpp-cpu-qwen05": 6}
LIVE_ERRORS = {"llamacpp-cpu": 0, "vllm-cpu": 3, "llamacpp-cpu-qwen05": 1}


def store_live_run(store: Store, n: int = 40) -> str:
    """A three-stack run still `running`: each stack has answered LIVE_ANSWERED of its
    questions (its first ones, as the runner stores them), LIVE_ERRORS of them failed."""
    questions, records = synthetic_run(n, seed=11, stacks=3)
    recipes = [{"name": name, "engine": "llamacpp"} for name in STACKS.values()]
    run_id = store.create_run(evalset="synthetic", evalset_digest="seed-11",
                              schedule="interleaved", stacks=recipes, questions=questions,
                              manifest={"synthetic": True, "schedule": "interleaved"},
                              limit=None)
    kept = []
    for name in STACKS.values():
        mine = [r for r in records if r.stack == name][:LIVE_ANSWERED[name]]
        for i, rec in enumerate(mine):
            update: dict[str, Any] = {"run_id": run_id}
            if i < LIVE_ERRORS[name]:
                update |= {"status": "error", "answer": "",
                           "error": f"connection failed: {name} refused the connection"}
            kept.append(rec.model_copy(update=update))
    store.add_responses(kept)
    return run_id


@pytest.fixture
def running_run(tmp_path: Path) -> tuple[WebConfig, str, str]:
    """A database with a completed three-stack run and, newer, one still in progress:
    returns (config, the completed run's id, the live run's id)."""
    db = tmp_path / "live.db"
    with Store(db) as store:
        done = store_synthetic_run(store, 40, stacks=3)
        live = store_live_run(store)
    return WebConfig(db=db, semantic=False), done, live


def serve(cfg: WebConfig) -> tuple[Any, str]:
    """Launch the app on a free loopback port without blocking; returns (app, url)."""
    from workbench.web.app import build_app, launch_app

    demo = build_app(cfg)
    port = free_port()
    launch_app(demo, host="127.0.0.1", port=port, block=False)
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A Playwright page in a fresh headless chromium profile."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context.new_page()
        finally:
            context.close()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


@pytest.fixture
def pair_config(rag_pair: dict[str, str], tmp_path: Path) -> WebConfig:  # noqa: F811
    """A web config whose stacks folder holds `side-a` and `side-b` (real, running)."""
    from workbench.settings import Settings

    settings = Settings(stacks_dir=Path(rag_pair["WORKBENCH_STACKS_DIR"]),
                        state_dir=Path(rag_pair["WORKBENCH_STATE_DIR"]))
    return WebConfig(settings=settings, db=tmp_path / "pair.db", semantic=False)
