"""Hand-built request records for metric tests (raw perf_counter-style timestamps)."""

from __future__ import annotations

from workbench.records.responses import LoadRequestRecord, RequestTiming, Status


def rec(
    index: int, start: float, tokens: list[float], *, n: int | None = None,
    status: Status = "ok", prompt_tokens: int | None = 10, correct: bool | None = None,
    ready: float | None = None,
) -> LoadRequestRecord:
    """A request that started at `start` and received content chunks at `tokens`."""
    timing = RequestTiming(
        request_start=start, first_token=tokens[0] if tokens else None,
        last_token=tokens[-1] if tokens else None,
        request_end=(tokens[-1] if tokens else start) + 0.001, token_times=tokens,
        started_at_utc="2026-01-01T00:00:00Z",
    )
    return LoadRequestRecord(
        index=index, prompt_id=f"p{index}", due=start if ready is None else ready,
        ready=start if ready is None else ready, status=status, timing=timing,
        prompt_tokens=prompt_tokens, completion_tokens=len(tokens) if n is None else n,
        tokens_from="usage", correct=correct,
    )
