"""A real small sweep against llama.cpp (the session's `llama_server`), stored and reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from workbench.cli import _register_commands, app
from workbench.load.report import load_table
from workbench.store.db import Store
from workbench.store.load_benches import LoadBenchStore

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]
MODEL = "smollm2-135m-instruct"


def _server_pid(url: str) -> int:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
            return conn.pid
    pytest.skip("cannot see the llama-server's pid here")


def _bench(*args: str) -> str:
    _register_commands()
    result = CliRunner().invoke(app, ["bench", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_concurrency_sweep_stored_and_reported(llama_server: str, tmp_path: Path) -> None:
    db = tmp_path / "wb.db"
    out = _bench("--url", llama_server, "--model", MODEL, "--input-len", "32", "--output-len",
                 "8", "--ignore-eos", "--concurrency", "1,2", "--requests", "3", "--warmup",
                 "1", "--pid", str(_server_pid(llama_server)), "--slo", "ttft=60s",
                 "--interval", "0.2", "--db", str(db))
    assert "Throughput vs load" in out and "c=2" in out
    store = LoadBenchStore(Store(db))
    table = load_table(store, "latest")
    assert table.status == "completed" and [r.label for r in table.rows] == ["c=1", "c=2"]
    for row in table.rows:
        s = row.by_stack["url"]
        assert s is not None and s.completed == 3 and s.failed == 0
        assert s.tokens_from == "usage"
        assert s.ttft is not None and s.tpot is not None and s.e2e is not None
        assert s.ttft.p50 is not None and s.e2e.p50 is not None
        assert 0 < s.ttft.p50 < s.e2e.p50 < 60  # seconds
        assert s.output_throughput == pytest.approx(8 * s.request_throughput)
        assert s.goodput == pytest.approx(s.request_throughput)  # a 60 s TTFT SLO
    requests = store.requests(table.bench_id, "url", 1)
    assert all(r.completion_tokens == 8 for r in requests)
    kinds = {s["kind"] for s in store.samples(table.bench_id)}
    assert {"process", "engine", "client"} <= kinds
    engine = store.samples(table.bench_id, "engine")[0]["data"]
    assert "llamacpp:prompt_tokens_total" in engine["raw"] and "running" in engine
    proc = store.samples(table.bench_id, "process")[0]["data"]
    assert proc["alive"] and proc["rss_mb"] > 50
    assert '"rows"' in _bench("--report", table.bench_id, "--json", "--db", str(db))


def test_eval_prompts_poisson_with_correct_goodput(
    llama_server: str, tmp_path: Path, shared_evalset: Callable[[str], Path]
) -> None:
    path = shared_evalset("xquad_en")
    db = tmp_path / "wb.db"
    _bench("--url", llama_server, "--model", MODEL, "--evalset", str(path), "--limit", "4",
           "--max-tokens", "16", "--rate", "2", "--burstiness", "1", "--requests", "4",
           "--warmup", "0", "--slo", "e2e=60s", "--db", str(db))
    table = load_table(LoadBenchStore(Store(db)), "latest")
    s = table.rows[0].by_stack["url"]
    assert s is not None and s.label == "rate=2/s poisson" and s.completed == 4
    assert s.accuracy is not None and s.correct_goodput is not None
    assert s.correct_goodput <= s.goodput  # type: ignore[operator]
