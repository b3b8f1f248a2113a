"""Engine /metrics counters read before and after a run: parsing, differences, the manifest
entry, and which engines are read at all (no engine started: the expositions below were
captured from real servers here)."""

from __future__ import annotations

from workbench.records.manifest import RunManifest
from workbench.runner.engine_metrics import (
    EngineMeter,
    counters,
    delta,
    engine_meters,
    metrics_url,
    record,
)
from workbench.settings import PROJECT_ROOT
from workbench.stacks.recipe import get_stack

# llama-server b11434 /metrics after two requests of 142 prompt tokens (141 reused).
LLAMACPP = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 143
# HELP llamacpp:prompt_tokens_cached_total Number of prompt tokens served from the cache.
# TYPE llamacpp:prompt_tokens_cached_total counter
llamacpp:prompt_tokens_cached_total 141
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 2.09503
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 16
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 0
"""

# vLLM 0.32 CPU /metrics, the kept families as the server here wrote them mid-run (the
# `_created` gauge and a bucket added: both must be dropped).
VLLM = """\
# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="smollm2-135m-instruct"} 2078.0
vllm:prefix_cache_queries_created{engine="0",model_name="smollm2-135m-instruct"} 1.796133163e+09
# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="smollm2-135m-instruct"} 512.0
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="smollm2-135m-instruct"} 5.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="smollm2-135m-instruct"} 0.0
vllm:request_success_total{engine="0",finished_reason="abort",model_name="smollm2-135m-instruct"} 0.0
# HELP vllm:request_queue_time_seconds Histogram of time spent in WAITING phase for request.
# TYPE vllm:request_queue_time_seconds histogram
vllm:request_queue_time_seconds_bucket{engine="0",le="+Inf",model_name="smollm2-135m-instruct"} 5.0
vllm:request_queue_time_seconds_count{engine="0",model_name="smollm2-135m-instruct"} 5.0
vllm:request_queue_time_seconds_sum{engine="0",model_name="smollm2-135m-instruct"} 0.000158475
"""  # noqa: E501


def test_kept_counters_of_both_engines() -> None:
    assert counters(LLAMACPP) == {"llamacpp:prompt_tokens": 143.0,
                                  "llamacpp:prompt_tokens_cached": 141.0,
                                  "llamacpp:prompt_seconds": 2.09503,
                                  "llamacpp:tokens_predicted": 16.0}
    got = counters(VLLM)
    assert got["vllm:prefix_cache_queries"] == 2078.0 and got["vllm:prefix_cache_hits"] == 512.0
    assert got["vllm:request_success"] == 5.0  # labelled series summed
    assert got["vllm:request_queue_time_seconds_count"] == 5.0
    assert not any("created" in k or "bucket" in k for k in got)


def test_delta_and_a_restarted_engine() -> None:
    before = {"a": 10.0, "b": 5.0, "gone": 1.0}
    assert delta(before, {"a": 15.0, "b": 2.0, "new": 3.0}) == {"a": 5.0, "b": 2.0}


def test_record_adds_resumed_sessions_and_skips_unread_engines() -> None:
    m1 = EngineMeter("s1", "http://127.0.0.1:1/metrics", counted={"llamacpp:prompt_tokens": 10.0})
    m2 = EngineMeter("s2", "http://127.0.0.1:2/metrics")  # its engine did not answer
    first = record(RunManifest.read({"schedule": "interleaved"}), {"s1": m1, "s2": m2})
    assert first.schedule == "interleaved"
    kept = first.to_json()["engine_metrics"]
    assert isinstance(kept, dict) and list(kept) == ["s1"]
    assert kept["s1"]["url"] == "http://127.0.0.1:1/metrics"
    assert kept["s1"]["counters"] == {"llamacpp:prompt_tokens": 10.0}
    assert "after the warm-up" in kept["s1"]["note"]
    again = record(first, {"s1": m1})
    assert again.engine_metrics is not None
    assert again.engine_metrics["s1"].counters == {"llamacpp:prompt_tokens": 20.0}


def test_a_meter_whose_engine_is_down_counts_nothing() -> None:
    from workbench.stacks.process import free_port

    m = EngineMeter("s", f"http://127.0.0.1:{free_port()}/metrics")
    m.start()
    m.stop()
    assert m.before is None and m.counted == {}


def test_which_engines_are_read() -> None:
    stacks = PROJECT_ROOT / "stacks"
    llama = get_stack("llamacpp-cpu", stacks)
    assert metrics_url(llama) == "http://127.0.0.1:8001/metrics"
    assert metrics_url(get_stack("vllm-cpu", stacks)) == "http://127.0.0.1:9001/metrics"
    assert metrics_url(get_stack("external", stacks)) is None  # no engine of ours
    near = llama.model_copy(update={"engine_url": "http://127.0.0.2:8001/v1"})
    assert metrics_url(near) == "http://127.0.0.2:8001/metrics"  # 127/8 is loopback
    far = llama.model_copy(update={"engine_url": "http://gpu-box:8001/v1"})
    assert metrics_url(far) is None  # another machine: not read
    assert list(engine_meters({"a": llama, "b": far})) == ["a"]
