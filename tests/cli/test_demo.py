"""`workbench demo` end to end on the real engines (llama.cpp on A, vLLM CPU on B).

Both sides serve the same SmolLM2 weights at temperature 0, so the verdict must find no
significant quality difference: a built-in check of the scoring.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp, pytest.mark.vllm]

LIMIT = 16


def port_with_next_free() -> int:
    """A free port whose successor is free too (the engine goes on RAG port + 1)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports")


def test_demo_end_to_end_same_weights_no_quality_difference(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBENCH_STATE_DIR": str(tmp_path / "state")}
    a_port = port_with_next_free()
    b_port = port_with_next_free()
    while abs(b_port - a_port) < 2:
        b_port = port_with_next_free()
    demo = subprocess.run(
        [sys.executable, "-m", "workbench", "demo", "--limit", str(LIMIT), "--a-port",
         str(a_port), "--b-port", str(b_port)],
        env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    out = demo.stdout + demo.stderr
    assert demo.returncode == 0, out[-4000:]
    assert "not Ollama" in out  # no ollama here: the stand-in is named for what it is
    db = tmp_path / "state" / "workbench.db"
    assert f"stored in {db}" in out.replace("\n", "")
    report = subprocess.run(
        [sys.executable, "-m", "workbench", "report", "latest", "--format", "json", "--db",
         str(db)], env=env, capture_output=True, text=True, timeout=600, check=True,
    )
    card = json.loads(report.stdout)
    assert card["stacks"] == ["llamacpp-cpu", "vllm-cpu"]
    assert card["baseline"] == "llamacpp-cpu"
    assert card["n_pairs"] == LIMIT
    a, b = card["summaries"]["llamacpp-cpu"], card["summaries"]["vllm-cpu"]
    assert a["alias"] == "A" and b["alias"] == "B"
    assert a["errors"] == 0 and b["errors"] == 0
    assert card["quality_difference"] is False, card["verdict"]
    assert "no significant difference in answer F1" in card["verdict"]
    # Real answers were produced and retrieval found gold passages.
    assert b["retrieval"]["hit@3"] > 0.5  # top_k is 4: k = 1, 3
    # The demo ends with its recommendation (after the report, where a reader looks last).
    tail = demo.stdout[-3000:]
    assert "Choice" in tail and ("choose " in tail or "no clear winner" in tail), tail
    assert list((tmp_path / "state" / "reports").glob("*.md"))
    # The demo stopped what it started.
    status = subprocess.run([sys.executable, "-m", "workbench", "status", "--json"], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    assert all(s["state"] == "down" for s in json.loads(status.stdout))
