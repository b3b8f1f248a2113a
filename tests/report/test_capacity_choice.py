"""Capacity at the team's load from synthetic load levels pushed through the product's
own code (`report.capacity_choice`): goodput counts only correct answers within the SLO,
SLOs are judged on CI bounds with failures as misses, and a stack that cannot hold the
target says where it broke and why."""

from __future__ import annotations

import numpy as np

from tests.load.helpers import rec
from tests.report.load_cards import A, B
from tests.report.load_cards import level as cost_level
from tests.report.load_cards import stack as cost_stack
from workbench.load.metrics import summarize
from workbench.records.responses import LoadRequestRecord, PointSpec
from workbench.report.capacity_choice import (
    build_level,
    check_slo,
    cost_rise,
    stack_load,
    stop_reason,
)
from workbench.report.constraints import parse_constraint
from workbench.report.load import LoadLevel, load_failures, load_note

SLO = [parse_constraint("e2e.p50<=2s")]


def _level(ttft: list[float], e2e: list[float], correct: list[bool | None],
           gap: float = 0.5, statuses: list[str] | None = None) -> list[LoadRequestRecord]:
    """Requests started `gap` s apart with the given TTFT / E2E (s) and verdicts."""
    out = []
    for i, (t, e, c) in enumerate(zip(ttft, e2e, correct, strict=True)):
        start = i * gap
        status = statuses[i] if statuses else "ok"
        tokens = [start + t, start + e] if status == "ok" else []
        out.append(rec(i, start, tokens, n=8, correct=c, status=status))  # type: ignore[arg-type]
    return out


def _point(spec: PointSpec, records: list[LoadRequestRecord]) -> tuple:  # type: ignore[type-arg]
    duration = max(r.timing.request_end for r in records) - records[0].timing.request_start
    return spec, summarize(spec, records, duration), records


def _build(spec: PointSpec, records: list[LoadRequestRecord], **kw: object) -> LoadLevel:
    _, summary, _ = _point(spec, records)
    return build_level(spec, summary, records, SLO, max_error_rate=0.05,
                       **{"min_correct_share": None, "base": None, **kw})  # type: ignore[arg-type]


def test_goodput_counts_only_correct_answers_within_the_slo() -> None:
    # 20 requests, all within the SLO; 8 answers correct, 12 wrong. A goodput that counted
    # the wrong answers would be 2.5x as high.
    records = _level([0.1] * 20, [0.5] * 20, [True] * 8 + [False] * 12)
    level = _build(PointSpec(requests=20, concurrency=1), records)
    duration = level.duration_s
    assert level.goodput_rps == 20 / duration
    assert level.correct_goodput_rps == 8 / duration
    assert level.accuracy == 0.4
    # Correct answers outside the SLO do not count either.
    slow = _level([0.1] * 4, [0.5, 0.5, 3.0, 3.0], [True, False, True, True])
    lv = _build(PointSpec(requests=4, concurrency=1), slow)
    assert round(lv.correct_goodput_rps * lv.duration_s) == 1


def test_capacity_is_judged_on_the_ci_bound_not_the_point_estimate() -> None:
    c1 = _level([0.1] * 20, [0.5] * 20, [True] * 20)
    # The median of 11 x 1.0 s and 9 x 2.5 s is 1.0 s (meets 2 s on its point estimate), but
    # 20 requests cannot show it: the interval's upper bound is 2.5 s.
    c2 = _level([0.2] * 20, [1.0] * 11 + [2.5] * 9, [True] * 20)
    s = stack_load("a", [_point(PointSpec(requests=20, concurrency=1), c1),
                         _point(PointSpec(requests=20, concurrency=2), c2)], SLO,
                   max_error_rate=0.05, min_correct_share=None, target_rps=None,
                   target_concurrency=None)
    est = s.levels[1].slo_checks[0].value
    assert est is not None and est.value < 2.0 < est.high and est.low < 2.0
    assert s.levels[1].slo_checks[0].verdict == "unknown" and not s.levels[1].holds
    assert s.capacity_level == "c=1" and s.broke_at == "c=2"
    assert "not known to meet e2e.p50<=2s" in (s.levels[1].broke or "")
    # Unknown is not a sure break: the sweep may go on.
    assert stop_reason(s.levels[1]) is None


def test_failures_count_as_misses() -> None:
    # 4 of 20 time out; the 16 answered are fast. Left out, p95 would be 0.5 s.
    records = _level([0.1] * 20, [0.5] * 20, [True] * 20,
                     statuses=["ok"] * 16 + ["timeout"] * 4)
    level = _build(PointSpec(requests=20, concurrency=4), records)
    assert level.e2e_p95 is not None and level.e2e_p95.value > 1e6
    p95 = check_slo(parse_constraint("e2e.p95<=2s"), records)
    assert p95.verdict == "broken" and not level.holds
    assert level.broke is not None and level.broke.startswith("errors: 4 of 20 requests failed")
    assert stop_reason(level) is not None and "stopped after c=4" in stop_reason(level)  # type: ignore[operator]


def test_infeasible_at_target_says_where_and_why() -> None:
    c1 = _level([0.1] * 10, [0.5] * 10, [True] * 10, gap=0.5)
    c2 = _level([3.0] * 10, [4.0] * 10, [True] * 10, gap=0.4)
    s = stack_load("slow", [_point(PointSpec(requests=10, concurrency=1), c1),
                            _point(PointSpec(requests=10, concurrency=2), c2)], SLO,
                   max_error_rate=0.05, min_correct_share=None, target_rps=3.0,
                   target_concurrency=None, price={"per_hour": 0.36, "currency": "USD"})
    assert s.holds_target is False and s.capacity_level == "c=1"
    assert s.reason.startswith("slow: cannot hold the target 3 rps: broke at c=2, queueing "
                               "(median TTFT 100 ms at c=1 -> 3.0 s)")
    assert "misses e2e.p50<=2s" in s.reason
    # Cost per 1,000 correct answers at the capacity level: 0.36/h at 10 correct in 5 s.
    assert s.cost_per_1k_correct is not None
    assert abs(s.cost_per_1k_correct - 0.36 / 3600 / (10 / c1[-1].timing.request_end) * 1000) \
        < 1e-9
    fast = stack_load("fast", [_point(PointSpec(requests=10, concurrency=1), c1)], SLO,
                      max_error_rate=0.05, min_correct_share=None, target_rps=1.5,
                      target_concurrency=None)
    assert fast.holds_target is True and fast.reason.startswith("fast: holds the target 1.5 rps")


def test_a_p95_cannot_hold_on_few_requests() -> None:
    """The constraints' own rule: 20 requests all at 0.5 s cannot show a p95 under 2 s
    (the order-statistic bound needs 72); 80 can."""
    few = _level([0.1] * 20, [0.5] * 20, [True] * 20)
    assert check_slo(parse_constraint("e2e.p95<=2s"), few).verdict == "unknown"
    many = _level([0.1] * 80, [0.5] * 80, [True] * 80)
    assert check_slo(parse_constraint("e2e.p95<=2s"), many).verdict == "holds"


def test_quality_under_load_breaks_a_level() -> None:
    c1 = _level([0.1] * 10, [0.5] * 10, [True] * 8 + [False] * 2)
    # Same latency, but truncated answers under load: 4 of 10 correct against 8 of 10.
    c4 = _level([0.1] * 10, [0.5] * 10, [True] * 4 + [False] * 6)
    s = stack_load("t", [_point(PointSpec(requests=10, concurrency=1), c1),
                         _point(PointSpec(requests=10, concurrency=4), c4)], SLO,
                   max_error_rate=0.05, min_correct_share=None, target_rps=None,
                   target_concurrency=None)
    assert s.levels[0].holds and not s.levels[1].holds
    assert s.levels[1].accuracy_delta is not None and abs(s.levels[1].accuracy_delta + 0.4) < 1e-9
    assert (s.levels[1].broke or "").startswith("quality under load: correct goodput")
    # A stated absolute share replaces the relative one.
    lenient = stack_load("t", [_point(PointSpec(requests=10, concurrency=1), c1),
                               _point(PointSpec(requests=10, concurrency=4), c4)], SLO,
                         max_error_rate=0.05, min_correct_share=0.3, target_rps=None,
                         target_concurrency=None)
    assert lenient.levels[1].holds


def test_notes_without_a_load_block() -> None:
    assert load_note(None).startswith("chosen at concurrency 1")
    assert load_failures(None, "a") == []


def test_cost_rise_interval_covers() -> None:
    """Simulated through the product's own interval: two stacks with the same true cost per
    correct answer (Poisson counts), the 90% interval holds the truth about 90% of the time."""
    rng = np.random.default_rng(7)
    hits, runs = 0, 400
    for _ in range(runs):
        ka, kb = rng.poisson(60), rng.poisson(60)
        if ka == 0 or kb == 0:
            continue
        sa = cost_stack(A, [cost_level("c=1", 1, correct_rps=ka / 100, cpu_s=100.0)], 1.0)
        sb = cost_stack(B, [cost_level("c=1", 1, correct_rps=kb / 100, cpu_s=100.0)], 1.0)
        r = cost_rise(sa, sb)
        assert r is not None
        hits += r[1] <= 0.0 <= r[2]
    assert 0.86 <= hits / runs <= 0.97
