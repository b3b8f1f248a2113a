"""The identity probes' pure parts: the /metrics snapshot, URLs fit to print, and the TGI
adapter's command line (TGI itself cannot run here; its fake is tests/fakes/fake_tgi.py)."""

from __future__ import annotations

import pytest

from workbench.settings import Settings
from workbench.stacks import identity
from workbench.stacks.engines import EngineUnavailableError, get_adapter
from workbench.stacks.engines.tgi import tgi_argv
from workbench.stacks.recipe import get_stack

EXPOSITION = """# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="m"} 120.0
vllm:prompt_tokens_total{engine="1",model_name="m"} 30.0
vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="m"} 1.0
vllm:e2e_request_latency_seconds_sum{model_name="m a"} 2.5
process_cpu_seconds_total 12.0
tgi_request_count 7
llamacpp:kv_cache_usage_ratio NaN
"""


def test_metrics_snapshot_keeps_the_engines_own_samples_as_written() -> None:
    snap = identity.parse_metrics(EXPOSITION)
    assert snap == {"vllm:prompt_tokens_total": 150.0,  # labelled series summed
                    "vllm:e2e_request_latency_seconds_sum": 2.5,  # a label value with a space
                    "tgi_request_count": 7.0}  # not renamed to *_total
    many = "\n".join(f"vllm:x{i} 1" for i in range(identity.MAX_METRIC_SAMPLES + 50))
    assert len(identity.parse_metrics(many)) == identity.MAX_METRIC_SAMPLES


def test_urls_with_credentials_are_never_printed() -> None:
    assert identity.safe_url("http://bob:pw@127.0.0.2:8000/v1") == "http://127.0.0.2:8000/v1"
    assert identity.safe_url("http://127.0.0.2:8000") == "http://127.0.0.2:8000"


def test_which_stacks_run_their_engine_elsewhere(settings: Settings) -> None:
    stacks = settings.stacks_dir
    assert identity.engine_is_elsewhere(get_stack("tgi-remote", stacks))
    assert not identity.engine_is_elsewhere(get_stack("llamacpp-cpu", stacks))
    assert not identity.engine_is_elsewhere(get_stack("external", stacks))  # a whole backend
    assert get_stack("ollama-remote", stacks).engine_base_url == "http://127.0.0.2:11434/v1"


def test_tgi_native_command_and_its_absence(settings: Settings) -> None:
    base = get_stack("tgi-remote", settings.stacks_dir)
    native = base.model_copy(update={"launch": "native", "engine_url": None,
                                     "ports": base.ports.model_copy(update={"engine": 8081})})
    argv = tgi_argv("/opt/tgi/text-generation-launcher", native)
    assert argv[argv.index("--model-id") + 1] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert argv[argv.index("--port") + 1] == "8081"
    assert argv[argv.index("--max-total-tokens") + 1] == "2048"
    assert argv[argv.index("--max-input-tokens") + 1] == str(2048 - 96)
    with pytest.raises(EngineUnavailableError, match=r"`text-generation-launcher` is not "
                                                     r"installed here.*launch: remote"):
        get_adapter("tgi").check_available(native, settings)
