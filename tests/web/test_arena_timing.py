"""The arena's TTFT, E2E and tok/s are `RequestTiming`'s, not a copy of its formulas."""

from __future__ import annotations

import pytest

from workbench.records.responses import RequestTiming
from workbench.web.arena_stream import Pane


def test_pane_metrics_are_request_timing_metrics() -> None:
    # Streamed: first content at 10.25 s, last at 10.65 s, done at 10.7 s, 4 tokens.
    pane = Pane(stack="s", started=10.0, text="Paris.", first_token_at=10.25,
                last_token_at=10.65, finished_at=10.7, token_events=3, completion_tokens=4,
                started_at_utc="2026-01-01T00:00:00Z")
    timing = RequestTiming(request_start=10.0, first_token=10.25, last_token=10.65,
                           request_end=10.7, started_at_utc="2026-01-01T00:00:00Z")
    assert pane.timing == timing
    assert pane.tokens == 4  # the server's count wins over the events counted
    assert pane.ttft_s == pytest.approx(0.25) == timing.ttft_s()
    assert pane.total_s == pytest.approx(0.65) == timing.e2e_s()
    # N / (E2E - TTFT) with the server's N: 4 / 0.4 s.
    assert pane.tokens_per_s == pytest.approx(10.0) == timing.output_rate(4)


def test_pane_before_and_without_tokens() -> None:
    waiting = Pane(stack="s", started=1.0)
    assert waiting.timing is None and waiting.ttft_s is None and waiting.tokens_per_s is None
    failed = Pane(stack="s", started=1.0, finished_at=1.5, error="down")
    assert failed.ttft_s is None and failed.total_s == pytest.approx(0.5)
    assert failed.tokens_per_s is None
