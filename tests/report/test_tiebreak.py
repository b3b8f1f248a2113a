"""The tie-break among possibly-best stacks: one Holm family over cost and latency pairs,
identical stacks one class (so a copy does not grow the family)."""

from __future__ import annotations

import numpy as np

from workbench.report.tiebreak import break_tie, latency_pair
from workbench.scoring.stats import PairedBootstrap

N = 50


def _latencies(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """A's E2E and X's, X scaled by `scale` (log-sd 0.25 request noise on both)."""
    rng = np.random.default_rng(11)
    base = rng.lognormal(0, 0.5, N)
    return base * rng.lognormal(0, 0.25, N), base * rng.lognormal(0, 0.25, N) * scale


def _p(scale: float) -> float:
    a, x = _latencies(scale)
    lat = latency_pair(PairedBootstrap(2000, 1), a, x)
    assert lat is not None and not lat.mixed
    return lat.mean.p_value


def test_cost_and_latency_are_one_holm_family() -> None:
    """Same price, X about 9% faster (p about 0.03 on both cost and E2E): significant
    alone, not once the two tests share the family (the smaller is asked at 0.025)."""
    assert 0.025 < _p(0.91) < 0.05
    a, x = _latencies(0.91)
    ok = np.ones(N, dtype=bool)
    boot = PairedBootstrap(2000, 1)
    alone = break_tie(["A", "X"], boot, 0.05, costs=None, ok={"A": ok, "X": ok},
                      e2e={"A": a, "X": x})
    assert alone.left == ["X"] and alone.latency_out == {"A": "X"} and alone.family == 1
    both = break_tie(["A", "X"], boot, 0.05, costs={"A": a * 1.0, "X": x * 1.0},
                     ok={"A": ok, "X": ok}, e2e={"A": a, "X": x})
    assert both.family == 2 and both.left == ["A", "X"]
    assert both.levels[("cost", "A", "X")] == both.levels[("latency", "A", "X")] == 0.025
    assert "would tell a difference that size apart" in both.unsettled


def test_a_copy_does_not_grow_the_tie_breaks_family() -> None:
    """X about 10% faster than A (p about 0.02): decided alone; with D, an exact copy of A,
    still one comparison (without the classes there would be three, and 0.02 > 0.05 / 3)."""
    assert 0.0167 < _p(0.90) < 0.025
    a, x = _latencies(0.90)
    ok = np.ones(N, dtype=bool)
    boot = PairedBootstrap(2000, 1)
    two = break_tie(["A", "X"], boot, 0.05, costs=None, ok={"A": ok, "X": ok},
                    e2e={"A": a, "X": x})
    three = break_tie(["X", "D", "A"], boot, 0.05, costs=None,
                      ok={"A": ok, "X": ok, "D": ok}, e2e={"A": a, "X": x, "D": a.copy()})
    assert two.left == three.left == ["X"] and two.family == three.family == 1
    assert three.latency_out == {"A": "X", "D": "X"}
