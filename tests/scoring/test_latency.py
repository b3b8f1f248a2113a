"""Latency scorers from raw timestamps, and their summaries against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from tests.report.synthetic import question, record
from workbench.scoring import e2e, itl, output_rate, retrieval_time, summarize, tpot, ttft
from workbench.scoring.base import Sample


def test_summary_matches_numpy() -> None:
    values = np.random.default_rng(3).lognormal(0, 1, 1001)
    s = summarize(values.tolist())
    assert s.n == 1001
    assert s.mean == pytest.approx(values.mean())
    for q, got in ((50, s.p50), (90, s.p90), (95, s.p95), (99, s.p99)):
        assert got == pytest.approx(np.percentile(values, q))
    assert summarize([]).p50 is None


def test_vllm_definitions_from_timestamps() -> None:
    q = question("q")
    # 11 tokens: first at +0.5 s, then every 0.1 s -> last at +1.5 s.
    s = Sample(q, record("q", "A", "x", ttft=0.5, itl=0.1, tokens=11))
    assert ttft()([s])[0] == pytest.approx(0.5)
    assert e2e()([s])[0] == pytest.approx(1.5)
    assert tpot()([s])[0] == pytest.approx(0.1)  # (1.5 - 0.5) / (11 - 1)
    assert itl()([s])[0] == pytest.approx(0.1)
    assert output_rate()([s])[0] == pytest.approx(11.0)  # 11 tokens / (1.5 - 0.5) s
    assert retrieval_time()([s])[0] == pytest.approx(0.015)  # 5 ms + 10 ms


def test_failed_requests_are_excluded() -> None:
    q = question("q")
    failed = Sample(q, record("q", "A", "x", status="error"))
    for scorer in (ttft(), e2e(), tpot(), itl(), output_rate(), retrieval_time()):
        assert scorer([failed]) == [None]
        assert scorer.distribution([failed]) == []


def test_itl_distribution_pools_gaps() -> None:
    q = question("q")
    samples = [Sample(q, record("q", "A", "x", itl=0.1, tokens=3)),
               Sample(q, record("q", "B", "x", itl=0.3, tokens=2))]
    assert itl().distribution(samples) == pytest.approx([0.1, 0.1, 0.3])
    assert itl()(samples) == pytest.approx([0.1, 0.3])
