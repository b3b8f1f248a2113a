"""The arrival generator's statistics, with fixed seeds (gamma gaps as in vllm bench serve)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.load.arrivals import arrival_offsets, coefficient_of_variation, inter_arrival_gaps

N = 20_000


def test_poisson_mean_and_cv() -> None:
    gaps = inter_arrival_gaps(N, rate=10.0, burstiness=1.0, seed=1)
    assert np.mean(gaps) == pytest.approx(0.1, rel=0.03)
    assert coefficient_of_variation(gaps) == pytest.approx(1.0, abs=0.03)


def test_constant_rate_has_no_variation() -> None:
    gaps = inter_arrival_gaps(100, rate=4.0, burstiness=math.inf)
    assert gaps == [0.25] * 100
    assert coefficient_of_variation(gaps) == 0.0


@pytest.mark.parametrize("burstiness", [0.25, 0.5, 4.0, 16.0])
def test_gamma_cv_is_one_over_sqrt_burstiness(burstiness: float) -> None:
    gaps = inter_arrival_gaps(N, rate=5.0, burstiness=burstiness, seed=2)
    assert np.mean(gaps) == pytest.approx(0.2, rel=0.05)
    assert coefficient_of_variation(gaps) == pytest.approx(1 / math.sqrt(burstiness), rel=0.06)


def test_seeded_and_independent_of_global_state() -> None:
    np.random.seed(123)
    a = inter_arrival_gaps(50, rate=3.0, seed=7)
    np.random.seed(456)
    assert inter_arrival_gaps(50, rate=3.0, seed=7) == a
    assert inter_arrival_gaps(50, rate=3.0, seed=8) != a


def test_offsets_start_at_zero_and_accumulate() -> None:
    offsets = arrival_offsets(5, rate=2.0, burstiness=math.inf)
    assert offsets == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert arrival_offsets(3, rate=math.inf) == [0.0, 0.0, 0.0]
    assert arrival_offsets(0, rate=1.0) == []


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        inter_arrival_gaps(3, rate=0.0)
    with pytest.raises(ValueError):
        inter_arrival_gaps(3, rate=1.0, burstiness=-1.0)
