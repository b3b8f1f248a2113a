"""Resource sampling: process trees (real psutil), engine /metrics and nvidia-smi parsing."""

from __future__ import annotations

import os
from typing import Any

from workbench.load.resources import (
    ResourceSampler,
    parse_engine_metrics,
    parse_nvidia_smi,
    process_trees,
)

# The exposition format as vLLM's /metrics writes it (documented Prometheus text format).
VLLM_METRICS = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 5.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 2.0
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 4.0
vllm:time_to_first_token_seconds_count{model_name="m"} 4.0
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.9
# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 100.0
"""


def test_parse_vllm_metrics() -> None:
    out = parse_engine_metrics(VLLM_METRICS)
    assert (out["running"], out["queue_depth"], out["kv_cache_usage"]) == (3.0, 5.0, 0.25)
    raw = out["raw"]
    assert raw["vllm:time_to_first_token_seconds_count"] == 4.0
    assert not any(k.endswith("_bucket") for k in raw)
    assert not any(k.startswith("python_") for k in raw)


def test_parse_llamacpp_metrics() -> None:
    text = ("# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 2\n"
            "# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 1\n")
    out = parse_engine_metrics(text)
    assert (out["running"], out["queue_depth"]) == (2.0, 1.0)


def test_parse_nvidia_smi_csv() -> None:
    csv = "0, 1234, 81559, 37, 71.50\n1, 10, 81559, [N/A], [N/A]\n"
    gpus = parse_nvidia_smi(csv)
    assert gpus[0] == {"index": 0.0, "memory.used": 1234.0, "memory.total": 81559.0,
                       "utilization.gpu": 37.0, "power.draw": 71.5}
    assert gpus[1] == {"index": 1.0, "memory.used": 10.0, "memory.total": 81559.0}


async def test_sampler_records_process_and_client_lag() -> None:
    rows: list[tuple[float, str, dict[str, Any]]] = []
    lags = [0.001, 0.004]
    sampler = ResourceSampler(lambda t, k, d: rows.append((t, k, d)),
                              pids={"self": os.getpid()}, client_lags=lags)
    await sampler.sample_once()
    kinds = {k: d for _, k, d in rows}
    assert kinds["process"]["alive"] and kinds["process"]["rss_mb"] > 10
    assert kinds["client"]["sent"] == 2 and kinds["client"]["max_send_lag_ms"] == 4.0
    await sampler.stop()


def test_missing_process_is_skipped() -> None:
    assert process_trees({"gone": 2**22 + 12345}) == []
