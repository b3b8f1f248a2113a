"""Per-stack engine counter totals, the one-line TTFT explanation, and their place in the
scorecard and its renderings (hand-made records; no stack involved)."""

from __future__ import annotations

import pytest

from tests.report.synthetic import question, record
from workbench.records.responses import EngineCounters, ResponseRecord
from workbench.report.engine_counters import explain_ttft, stack_totals
from workbench.report.render import render_markdown
from workbench.report.scorecard import build_scorecard


def _with(rec: ResponseRecord, **counters: object) -> ResponseRecord:
    return rec.model_copy(update={"engine_counters": EngineCounters(**counters)})


def _run(n: int, *, ttft_a: float, ttft_b: float, a: dict[str, object] | None,
         b: dict[str, object] | None) -> list[ResponseRecord]:
    out = []
    for i in range(n):
        ra = record(f"q{i}", "A", "gold", ttft=ttft_a, start=10.0 * i)
        rb = record(f"q{i}", "B", "gold", ttft=ttft_b, start=10.0 * i + 5)
        out += [_with(ra, **a) if a is not None else ra, _with(rb, **b) if b is not None else rb]
    return out


def _card(responses: list[ResponseRecord], manifest: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    qs = [question(f"q{i}") for i in range(len(responses) // 2)]
    return build_scorecard(qs, responses, stacks=["stack-a", "stack-b"], baseline="stack-a",
                           manifest=manifest, semantic=False, resamples=200)


def test_totals_sum_per_request_counters_of_successful_answers() -> None:
    recs = [_with(record("q1", "A", "x"), prompt_tokens=100, cached_tokens=60, prompt_ms=20.0),
            _with(record("q2", "A", "x"), prompt_tokens=300, cached_tokens=0, prompt_ms=150.0),
            _with(record("q3", "A", "x", status="error"), prompt_tokens=999, cached_tokens=999)]
    t = stack_totals(recs)
    assert t is not None
    assert (t.requests, t.prompt_tokens, t.cached_tokens) == (2, 400, 60)
    assert t.cache_hit_rate == pytest.approx(0.15)
    assert t.prompt_tokens_mean == pytest.approx(200)
    # (40 + 300) computed tokens in 0.17 s of prefill
    assert t.prefill_tok_s == pytest.approx(340 / 0.17)
    assert t.queue_ms_mean is None and t.source == "per request"


def test_no_counters_at_all_is_none() -> None:
    assert stack_totals([record("q1", "A", "x")]) is None


def test_vllm_metrics_give_hit_rate_queue_and_prefill_when_answers_carry_none() -> None:
    metrics = {"vllm:prefix_cache_queries": 1000.0, "vllm:prefix_cache_hits": 750.0,
               "vllm:prompt_tokens": 1000.0, "vllm:prompt_tokens_cached": 750.0,
               "vllm:request_queue_time_seconds_sum": 0.04,
               "vllm:request_queue_time_seconds_count": 4.0,
               "vllm:request_prefill_time_seconds_sum": 0.5}
    recs = [record(f"q{i}", "B", "x") for i in range(4)]
    t = stack_totals(recs, metrics, prefix_caching=True)
    assert t is not None
    assert t.cache_hit_rate == pytest.approx(0.75)
    assert t.queue_ms_mean == pytest.approx(10.0)
    assert t.prefill_tok_s == pytest.approx(250 / 0.5)
    assert (t.prompt_tokens, t.cached_tokens, t.prompt_tokens_mean) == (1000, 750, 250)
    assert t.source == "/metrics" and t.prefix_caching is True


def test_llamacpp_metrics_count_computed_and_cached_apart() -> None:
    # llamacpp:prompt_tokens counts only computed tokens (measured on b11434: 142 then 1).
    t = stack_totals([record("q1", "A", "x")], {"llamacpp:prompt_tokens": 143.0,
                                                "llamacpp:prompt_tokens_cached": 141.0,
                                                "llamacpp:prompt_seconds": 2.0})
    assert t is not None
    assert (t.prompt_tokens, t.cached_tokens) == (284, 141)
    assert t.prefill_tok_s == pytest.approx(143 / 2.0)


def test_cache_gap_explains_a_large_ttft_gap_in_one_line() -> None:
    card = _card(_run(6, ttft_a=1.0, ttft_b=0.2,
                      a={"prompt_tokens": 400, "cached_tokens": 0},
                      b={"prompt_tokens": 400, "cached_tokens": 312}))
    assert card.summaries["stack-b"].engine_counters is not None
    assert card.engine_notes == [
        "stack-b's TTFT is 5.0x lower than stack-a's: 78% of its prompt tokens came from its "
        "prefix cache; stack-a's 0%"]
    md = render_markdown(card)
    assert "## Engine counters per stack" in md and "| stack-b | ? | 6 | 400 |" in md
    assert card.engine_notes[0] in md


def test_fewer_prompt_tokens_explain_it_when_caches_agree() -> None:
    card = _card(_run(4, ttft_a=0.3, ttft_b=0.9,
                      a={"prompt_tokens": 200, "cached_tokens": 0},
                      b={"prompt_tokens": 800, "cached_tokens": 0}))
    assert card.engine_notes == ["stack-a's TTFT is 3.0x lower than stack-b's: it read 200 "
                                 "prompt tokens per request; stack-b 800"]


def test_queue_time_explains_it() -> None:
    card = _card(_run(4, ttft_a=0.2, ttft_b=1.0,
                      a={"prompt_tokens": 400, "cached_tokens": 0, "queue_ms": 5.0},
                      b={"prompt_tokens": 400, "cached_tokens": 0, "queue_ms": 700.0}))
    assert card.engine_notes == ["stack-a's TTFT is 5.0x lower than stack-b's: stack-b's "
                                 "requests waited 700 ms in its engine's queue; its own 5 ms"]


def test_prefill_time_of_the_same_tokens_explains_it() -> None:
    card = _card(_run(4, ttft_a=1.0, ttft_b=0.25,
                      a={"prompt_tokens": 400, "cached_tokens": 0, "prompt_ms": 900.0},
                      b={"prompt_tokens": 400, "cached_tokens": 0, "prompt_ms": 150.0}))
    assert card.engine_notes == [
        "stack-b's TTFT is 4.0x lower than stack-a's: stack-a's engine spent 900 ms per "
        "request computing its prompt, stack-b's 150 ms (from cache 0% vs 0%, 444 vs 2,667 "
        "tok/s): a slower prefill, not a setting"]


def test_faster_prefill_speed_explains_it_when_prefill_time_is_small() -> None:
    # Prefill time is a small part of the TTFT gap, but the speeds are far apart.
    card = _card(_run(4, ttft_a=1.0, ttft_b=0.25,
                      a={"prompt_tokens": 400, "cached_tokens": 300, "prompt_ms": 100.0},
                      b={"prompt_tokens": 400, "cached_tokens": 300, "prompt_ms": 20.0}))
    [line] = card.engine_notes
    assert line.startswith("stack-b's TTFT is 4.0x lower than stack-a's: its engine computed "
                           "uncached prompt tokens at 5,000 tok/s, stack-a's at 1,000 tok/s")


def test_the_slow_sides_own_prefill_time_explains_it_when_the_other_has_none() -> None:
    # As measured here: llama.cpp reports prefill time per request, vLLM (without its
    # /metrics) does not; the caches do not explain it (llama.cpp's is the larger).
    card = _card(_run(4, ttft_a=9.0, ttft_b=1.4,
                      a={"prompt_tokens": 406, "cached_tokens": 150, "prompt_ms": 9000.0},
                      b={"prompt_tokens": 406, "cached_tokens": 77}))
    assert card.engine_notes == [
        "stack-b's TTFT is 6.4x lower than stack-a's: stack-a's engine spent 9,000 ms per "
        "request computing its uncached prompt tokens (28 tok/s); prompt from cache 37% vs "
        "stack-b's 19%: a slower prefill, not a setting"]
    assert "| 9000 ms |" in render_markdown(card)


def test_a_gap_the_counters_do_not_explain_is_said_and_a_small_gap_is_not() -> None:
    same = {"prompt_tokens": 400, "cached_tokens": 0}
    card = _card(_run(4, ttft_a=1.0, ttft_b=0.3, a=same, b=same))
    assert card.engine_notes == ["stack-b's TTFT is 3.3x lower than stack-a's; the engines' "
                                 "counters do not account for it (prompt tokens per request "
                                 "400 vs 400, from cache 0% vs 0%)"]
    assert _card(_run(4, ttft_a=0.3, ttft_b=0.25, a=same, b=same)).engine_notes == []
    # Without counters on one side nothing is claimed.
    assert _card(_run(4, ttft_a=1.0, ttft_b=0.2, a=same, b=None)).engine_notes == []


def test_explain_reads_summaries_by_name() -> None:
    card = _card(_run(4, ttft_a=1.0, ttft_b=0.2, a={"prompt_tokens": 10, "cached_tokens": 0},
                      b={"prompt_tokens": 10, "cached_tokens": 9}))
    assert explain_ttft(card.summaries, "no-such-stack") == []
    assert explain_ttft(card.summaries, "stack-b") == [
        "stack-b's TTFT is 5.0x lower than stack-a's: 90% of its prompt tokens came from its "
        "prefix cache; stack-a's 0%"]


def test_manifest_metrics_and_setting_reach_the_card() -> None:
    manifest = {
        "stacks": {}, "prefix_caching": {"stack-a": {"on": False}, "stack-b": {"on": True}},
        "engine_metrics": {"stack-b": {"url": "http://127.0.0.1:1/metrics", "counters": {
            "vllm:prefix_cache_queries": 100.0, "vllm:prefix_cache_hits": 40.0}}},
    }
    card = _card(_run(4, ttft_a=0.3, ttft_b=0.3, a={"prompt_tokens": 10, "cached_tokens": 0},
                      b=None), manifest)
    a, b = (card.summaries[s].engine_counters for s in ("stack-a", "stack-b"))
    assert a is not None and a.prefix_caching is False and a.cache_hit_rate == 0.0
    assert b is not None and b.cache_hit_rate == pytest.approx(0.4) and b.source == "/metrics"
