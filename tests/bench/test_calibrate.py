"""The calibration harness's own arithmetic (`workbench.bench.calibrate`): which cells it
runs, the worst-kind row with its Monte Carlo interval, and the simulator's true values."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from workbench.bench.calibrate import (
    Cell,
    Truth,
    _worst,
    interruptible,
    parse_cells,
    simulate,
)
from workbench.normalize import exact_match_score, f1_score


def test_cells_are_parsed_and_bad_ones_named() -> None:
    assert parse_cells("2x30, 4x68") == [(2, 30), (4, 68)]
    for bad in ("2x", "1x30", "2*30"):
        with pytest.raises(ValueError, match=r"CELLS: .* is not STACKSxQUESTIONS"):
            parse_cells(bad)


def test_worst_kind_carries_its_interval_and_count() -> None:
    cell = Cell()
    for run in range(20):
        for kind, held in (("stack f1", True), ("hit@1 diff", run % 5 != 0)):
            cell.covered(kind, held)
            cell.clusters.setdefault(kind, []).append((int(held), 1))
    # 16 of 20, one interval a run: the runs as clusters give an effective count of 19
    # (the variance's k / (k - 1)), so Wilson's interval of 15 of 19: [0.57, 0.91].
    assert _worst(cell) == "0.800 [0.57, 0.91] (hit@1 diff, 20)"
    cell.cover["rare"] = [0, 9]  # under 10 intervals: not a candidate for the worst
    assert _worst(cell).startswith("0.800")


def test_partial_answers_make_f1_continuous_and_the_truths_follow() -> None:
    """With `partial`, a share of the wrong answers hold half the gold's words (F1 0.5,
    exact match 0); the simulated mean F1 and exact match meet the true values."""
    t = Truth("s0", correct=0.5, partial=0.4)
    assert t.f1 == pytest.approx((0.5 + 0.5 * 0.4 / 2) * 0.99)
    assert t.exact == pytest.approx(0.5 * 0.99)
    qs, recs = simulate([t], 4000, seed=1, sources=False)
    gold = {q.id: q.answers for q in qs}
    f1 = np.array([f1_score(r.answer, gold[r.question_id]) for r in recs])
    em = np.array([exact_match_score(r.answer, gold[r.question_id]) for r in recs])
    assert set(np.round(f1, 6)) == {0.0, 0.5, 1.0}
    assert f1.mean() == pytest.approx(t.f1, abs=0.02)
    assert em.mean() == pytest.approx(t.exact, abs=0.02)
    # Without it every F1 is 0 or 1, and the random stream is the one the table used.
    plain = simulate([Truth("s0")], 50, seed=1, sources=False)[1]
    assert {f1_score(r.answer, gold[r.question_id]) for r in plain} <= {0.0, 1.0}


def test_a_run_started_in_the_background_can_still_be_stopped() -> None:
    """`cmd &` from a script starts with SIGINT ignored; the run restores Ctrl-C (and makes
    SIGTERM one), so stopping it prints the table of what finished."""
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        interruptible()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGINT, saved[0])
        signal.signal(signal.SIGTERM, saved[1])
