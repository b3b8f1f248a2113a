"""When each request of a load point is due: the arrival schedule.

Same model as `vllm bench serve`: inter-arrival gaps are gamma-distributed with shape
`burstiness` and mean `1 / rate`, so burstiness 1 is a Poisson process (exponential gaps,
coefficient of variation 1), burstiness -> inf is a constant rate (CV 0), and in general
CV = 1 / sqrt(burstiness). An infinite rate sends everything at once (the concurrency
limit, if any, then paces the requests).
"""

from __future__ import annotations

import math

import numpy as np


def inter_arrival_gaps(n: int, rate: float, burstiness: float = 1.0, seed: int = 0) -> list[float]:
    """`n` gaps (seconds) between consecutive arrivals for `rate` requests/s.

    Seeded so that a benchmark's schedule is reproducible, and independent of numpy's
    global random state.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if rate <= 0 or burstiness <= 0:
        raise ValueError("rate and burstiness must be > 0")
    if math.isinf(rate):
        return [0.0] * n
    if math.isinf(burstiness):
        return [1.0 / rate] * n
    rng = np.random.default_rng(seed)
    theta = 1.0 / (rate * burstiness)
    return [float(g) for g in rng.gamma(shape=burstiness, scale=theta, size=n)]


def arrival_offsets(n: int, rate: float, burstiness: float = 1.0, seed: int = 0) -> list[float]:
    """Send times (seconds after the point starts) of `n` requests; the first is at 0."""
    gaps = inter_arrival_gaps(max(n - 1, 0), rate, burstiness, seed)
    offsets = [0.0] if n else []
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    return offsets


def coefficient_of_variation(values: list[float]) -> float:
    """Standard deviation / mean (0 for a constant series)."""
    arr = np.asarray(values, dtype=float)
    mean = float(arr.mean())
    return 0.0 if mean == 0 else float(arr.std()) / mean
