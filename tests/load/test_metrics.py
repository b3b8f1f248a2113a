"""Metrics on synthetic timestamp traces, against hand-computed values (vLLM definitions)."""

from __future__ import annotations

import math

import pytest

from tests.load.helpers import rec
from workbench.load.metrics import (
    distribution,
    find_saturation,
    itl_s,
    parse_slo,
    summarize,
    tpot_s,
    ttft_s,
)
from workbench.records.responses import PointSpec
from workbench.scoring.latency import summarize as summarize_latency

# A: start 0, chunks at 0.1 0.2 0.3 0.5, 4 tokens -> TTFT 100, E2E 500, TPOT 400/3, ITL 100 100 200
# B: start 1, chunks at 1.3 1.4, 2 tokens -> TTFT 300, E2E 400, TPOT 100, ITL 100
# C: failed
A = rec(0, 0.0, [0.1, 0.2, 0.3, 0.5], correct=True)
B = rec(1, 1.0, [1.3, 1.4], correct=False)
C = rec(2, 1.5, [], n=None, status="error", prompt_tokens=None, correct=False)
SPEC = PointSpec(requests=3, concurrency=2)


def test_per_request_definitions() -> None:
    assert ttft_s(A) == pytest.approx(0.1)
    assert tpot_s(A) == pytest.approx(0.4 / 3)
    assert itl_s(A) == pytest.approx([0.1, 0.1, 0.2])
    assert tpot_s(rec(3, 0.0, [0.2])) is None  # one token: no TPOT


def test_summary_hand_computed() -> None:
    s = summarize(SPEC, [A, B, C], duration_s=2.0)
    assert (s.requests, s.completed, s.failed) == (3, 2, 1)
    assert s.error_rate == pytest.approx(1 / 3)
    assert s.request_throughput == pytest.approx(1.0)
    assert s.output_throughput == pytest.approx(3.0)  # 6 tokens / 2 s
    assert s.total_token_throughput == pytest.approx(13.0)  # (20 + 6) / 2 s
    assert s.ttft is not None and s.tpot is not None and s.itl is not None and s.e2e is not None
    # Seconds, like every stored latency (the report prints ms).
    assert (s.ttft.mean, s.ttft.p50, s.ttft.p90, s.ttft.p99) == pytest.approx(
        (0.2, 0.2, 0.28, 0.298))
    assert s.e2e.mean == pytest.approx(0.45)
    assert s.tpot.mean == pytest.approx((0.4 / 3 + 0.1) / 2)
    # ITL pooled over requests: [100, 100, 200, 100] ms -> sorted p90 at 2.7 -> 170 ms
    assert (s.itl.n, s.itl.mean, s.itl.p50, s.itl.p90) == pytest.approx((4, 0.125, 0.1, 0.17))
    assert s.latency_unit == "s"
    assert s.accuracy == pytest.approx(1 / 3)
    assert s.goodput is None
    assert s.correct_goodput == pytest.approx(0.5)  # no SLO: completed and correct (A)


def test_goodput_under_slos() -> None:
    only_ttft = summarize(SPEC, [A, B, C], 2.0, parse_slo("ttft=200ms"))
    assert only_ttft.goodput == pytest.approx(0.5)  # A (100 ms) yes, B (300 ms) no
    assert only_ttft.correct_goodput == pytest.approx(0.5)  # A is also correct
    only_tpot = summarize(SPEC, [A, B, C], 2.0, parse_slo("tpot=120ms"))
    assert only_tpot.goodput == pytest.approx(0.5)  # A 133 ms no, B 100 ms yes
    assert only_tpot.correct_goodput == 0.0  # B is wrong
    both = summarize(SPEC, [A, B, C], 2.0, parse_slo("ttft=200ms,tpot=120ms"))
    assert both.goodput == 0.0
    assert summarize(SPEC, [A, B, C], 2.0, parse_slo("e2e=1s")).goodput == pytest.approx(1.0)


def test_one_token_request_has_zero_tpot_for_slo() -> None:
    one = rec(0, 0.0, [0.05])
    assert summarize(PointSpec(requests=1), [one], 1.0, {"tpot": 0.001}).goodput == 1.0


def test_send_lag_from_ready_time() -> None:
    late = rec(0, 0.004, [0.1], ready=0.0)
    s = summarize(PointSpec(requests=1), [late], 1.0)
    assert s.send_lag is not None and s.send_lag.p50 == pytest.approx(0.004)


def test_parse_slo() -> None:
    assert parse_slo("ttft=500ms, tpot=50ms,e2e=2s") == pytest.approx(
        {"ttft": 0.5, "tpot": 0.05, "e2e": 2.0})
    assert parse_slo("e2el=300") == {"e2e": 0.3}  # vLLM's name; bare numbers are ms
    assert parse_slo(None) == {}
    for bad in ("ttft", "speed=1ms", "ttft=fast"):
        with pytest.raises(ValueError, match="bad SLO"):
            parse_slo(bad)


def test_distribution_is_the_scorecards_summary() -> None:
    values = [0.001 * v for v in range(1, 101)]  # 1..100 ms
    d = distribution(values)
    assert d is not None
    assert (d.p50, d.p90, d.p95, d.p99) == pytest.approx((0.0505, 0.0901, 0.09505, 0.09901))
    assert d == summarize_latency(values)  # one percentile function for load and scorecard
    assert distribution([]) is None


def test_saturation_found_where_throughput_flattens() -> None:
    points = [(1, 10.0, 0.10), (2, 19.0, 0.105), (4, 19.5, 0.20), (8, 19.6, 0.40)]
    sat = find_saturation(points)
    assert sat.at == 2  # 2 -> 4 gains 2.6% while latency doubles
    assert "+2.6%" in sat.reason


def test_saturation_with_falling_throughput() -> None:
    assert find_saturation([(1, 5.0, 0.2), (2, 9.0, 0.22), (4, 8.0, 0.5)]).at == 2


def test_no_saturation_while_throughput_rises() -> None:
    sat = find_saturation([(1, 10.0, 0.1), (2, 19.0, 0.11), (4, 30.0, 0.13)])
    assert sat.at is None and "not reached" in sat.reason
    assert find_saturation([(1, 10.0, 0.1)]).at is None
    # Flat throughput but latency not climbing (e.g. noise) is not saturation.
    assert find_saturation([(1, 10.0, 0.2), (2, 10.1, 0.19)]).at is None


def test_point_labels() -> None:
    assert PointSpec(requests=1, concurrency=4).label == "c=4"
    assert PointSpec(requests=1, rate=2).label == "rate=2/s poisson"
    assert PointSpec(requests=1, rate=2, burstiness=math.inf).label == "rate=2/s constant"
    assert PointSpec(requests=1, rate=2, burstiness=0.5, concurrency=8).label == (
        "c=8 rate=2/s gamma(0.5)")
