"""The engines' own counters end to end: real engines, real RAG services, a real run stored
in a real SQLite file, then the scorecard and its report.

llama.cpp: two RAG services share one llama-server (tests/runner/conftest.py), so the
second stack to ask a question finds the first one's prompt in the engine's cache.
vLLM CPU: started by the launcher beside a llama.cpp stack (about 2 minutes here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.rag.generation import EngineClient
from workbench.report.render import render_markdown
from workbench.report.stored import scorecard_for_run
from workbench.stacks.recipe import Generation
from workbench.store.db import Store

pytestmark = [pytest.mark.slow]

N_QUESTIONS = 4


@pytest.mark.llamacpp
def test_llamacpp_counters_reach_stored_records_and_the_report(
        rag_pair: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "run", "--evalset", "demo-en", "--stacks",
         "side-a,side-b", "--limit", str(N_QUESTIONS), "--no-report", "--db", str(db)],
        env={**os.environ, **rag_pair}, capture_output=True, text=True, timeout=900,
        check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with Store(db) as store:
        [run] = store.list_runs()
        records = store.responses(run["id"])
        manifest = store.get_run(run["id"])["manifest"]
        card = scorecard_for_run(store, run["id"], semantic=False, use_cache=False)
    ok = [r for r in records if r.status == "ok"]
    assert len(ok) == 2 * N_QUESTIONS
    for r in ok:
        c = r.engine_counters
        assert c is not None and c.source == "timings", r
        # prompt_n + cache_n is the prompt the engine read, as its usage says.
        assert c.prompt_tokens == r.prompt_tokens and c.prompt_tokens > 50
        assert c.cached_tokens is not None and 0 <= c.cached_tokens <= c.prompt_tokens
        assert c.prompt_ms is not None and c.prompt_ms > 0
    # The second stack asking a question reuses the first one's prompt (one engine).
    assert max(r.engine_counters.cached_tokens or 0 for r in ok  # type: ignore[union-attr]
               ) > 0.5 * max(r.prompt_tokens or 0 for r in ok)
    counted = manifest["engine_metrics"]["side-a"]["counters"]
    assert counted["llamacpp:prompt_tokens"] > 0  # computed tokens since the warm-up
    assert manifest["prefix_caching"]["side-a"] == {"on": True, "from": "engine default"}

    totals = card.summaries["side-a"].engine_counters
    assert totals is not None and totals.requests == N_QUESTIONS
    mine = [r.engine_counters for r in ok if r.stack == "side-a"]
    assert totals.prompt_tokens == sum(c.prompt_tokens or 0 for c in mine if c)
    assert totals.cache_hit_rate is not None and 0 <= totals.cache_hit_rate <= 1
    assert "## Engine counters per stack" in render_markdown(card)


@pytest.mark.llamacpp
async def test_prefix_caching_off_reaches_llamacpp_per_request(llama_server: str) -> None:
    messages = [{"role": "system", "content": "Answer in one word. " * 30},
                {"role": "user", "content": "What colour is the sky?"}]

    async def cached_twice(setting: bool | None) -> list[int | None]:
        client = EngineClient(llama_server, "smollm2-135m-instruct",
                              Generation(prefix_caching=setting, max_tokens=4),
                              engine="llamacpp")
        out = []
        for _ in range(2):
            stream = await client.open(messages, 4)
            async for _piece in stream.pieces():
                pass
            await stream.aclose()
            assert stream.stats.counters is not None
            out.append(stream.stats.counters.cached_tokens)
        return out

    assert (await cached_twice(None))[1] > 100  # the default reuses the prompt
    assert await cached_twice(False) == [0, 0]  # cache_prompt: false is obeyed


@pytest.mark.vllm
async def test_vllm_prefix_cache_counters_in_a_two_stack_run(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    from tests.stacks.conftest import stack_on_free_ports
    from workbench.runner.run import RunOptions
    from workbench.runner.session import create_run, execute
    from workbench.settings import get_settings
    from workbench.stacks import launcher

    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(tmp_path / "state"))
    settings = get_settings()
    if not settings.vllm_python_path.is_file():
        pytest.skip("the vLLM CPU venv is not built (make vllm)")
    try:
        for name in ("llamacpp-cpu", "vllm-cpu"):
            launcher.up(stack_on_free_ports(name, settings), settings)
        with Store(tmp_path / "wb.db") as store:
            prepared = create_run(store, "demo-en", ["llamacpp-cpu", "vllm-cpu"],
                                  limit=N_QUESTIONS, options=RunOptions(), settings=settings)
            await execute(store, prepared)
            records = store.responses(prepared.run_id)
            manifest = store.get_run(prepared.run_id)["manifest"]
            card = scorecard_for_run(store, prepared.run_id, semantic=False, use_cache=False)
    finally:
        launcher.down(None, settings)
    vllm = [r for r in records if r.stack == "vllm-cpu" and r.status == "ok"]
    assert len(vllm) == N_QUESTIONS
    for r in vllm:  # --enable-prompt-tokens-details: cached tokens in each usage
        c = r.engine_counters
        assert c is not None and c.source == "usage" and c.prompt_tokens == r.prompt_tokens
        assert c.cached_tokens is not None and 0 <= c.cached_tokens <= (c.prompt_tokens or 0)
    counted = manifest["engine_metrics"]["vllm-cpu"]["counters"]
    # Read after the warm-up: exactly the measured requests were queued and prefilled.
    assert counted["vllm:request_queue_time_seconds_count"] == N_QUESTIONS
    assert counted["vllm:prefix_cache_queries"] >= sum(r.prompt_tokens or 0 for r in vllm) * 0.9
    assert counted["vllm:prefix_cache_hits"] <= counted["vllm:prefix_cache_queries"]
    totals = card.summaries["vllm-cpu"].engine_counters
    assert totals is not None and totals.queue_ms_mean is not None
    assert totals.prefill_ms_mean is not None and totals.prefill_tok_s is not None
    assert manifest["prefix_caching"]["vllm-cpu"]["on"] is True
    assert not any("prefix caching differs" in w for w in card.warnings)
