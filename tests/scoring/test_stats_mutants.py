"""Tests written against mutants of `workbench.scoring.stats` that survived `make mutants`
(mutmut): each pins a number, a word or an edge the other tests left loose, against a value
worked out independently here (a closed form, numpy/scipy, or a hand count)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.scoring.test_paired_proportions import _by_hand
from workbench.scoring.stats import paired_proportion_diff


@pytest.mark.parametrize("cells", [(59, 16, 6, 80), (10, 3, 1, 16), (0, 1, 0, 29),
                                   (5, 9, 2, 4), (3, 2, 4, 40), (30, 0, 0, 0)])
def test_paired_proportion_interval_equals_newcombes_by_hand(
        cells: tuple[int, int, int, int]) -> None:
    """Newcombe's square-and-add against the independent recomputation of
    `tests/scoring/test_paired_proportions.py` (scipy's Wilson intervals), in the mutation
    run's test selection: positive, zero and negative cross-products, a one-sided table."""
    both, b_only, a_only, neither = cells
    a = np.array([1] * both + [0] * b_only + [1] * a_only + [0] * neither)
    b = np.array([1] * both + [1] * b_only + [0] * a_only + [0] * neither)
    iv = paired_proportion_diff(a, b)
    n = sum(cells)
    low, high = _by_hand(*cells)
    assert iv.estimate == pytest.approx((b_only - a_only) / n, abs=1e-12)
    assert (iv.low, iv.high) == pytest.approx((max(low, -1.0), min(high, 1.0)), abs=1e-9)
    # A 90% interval sits inside the 95% one.
    narrow = paired_proportion_diff(a, b, confidence=0.90)
    assert iv.low < narrow.low and narrow.high < iv.high


def test_paired_proportion_of_nothing_is_undefined() -> None:
    iv = paired_proportion_diff(np.array([], dtype=bool), np.array([], dtype=bool))
    assert all(np.isnan(x) for x in (iv.estimate, iv.low, iv.high))
