"""The engine's own counters in its last streamed chunk (llama.cpp `timings`, vLLM usage
details), read as the chunks arrive through the openai client's model."""

from __future__ import annotations

import json

from openai.types.chat import ChatCompletionChunk

from workbench.rag.generation import engine_counters

# The last chunk of a real llama-server b11434 stream (SmolLM2, second request: the slot
# kept 141 of the 142 prompt tokens), captured from the server started in a session here.
LLAMACPP_LAST = json.loads(
    '{"choices":[],"created":1796132638,"id":"chatcmpl-MaMh","model":"smollm2-135m-instruct",'
    '"system_fingerprint":"b0-unknown","object":"chat.completion.chunk","usage":'
    '{"completion_tokens":8,"prompt_tokens":142,"total_tokens":150,"prompt_tokens_details":'
    '{"cached_tokens":141}},"timings":{"cache_n":141,"prompt_n":1,"prompt_ms":7.256,'
    '"prompt_per_token_ms":7.256,"prompt_per_second":137.8,"predicted_n":8,'
    '"predicted_ms":81.107,"predicted_per_token_ms":11.58,"predicted_per_second":86.3}}')

# vLLM 0.32's usage chunk with --enable-prompt-tokens-details (no `timings`).
VLLM_LAST = {
    "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
    "choices": [],
    "usage": {"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320,
              "prompt_tokens_details": {"cached_tokens": 208}},
}


def test_llamacpp_timings_give_total_cached_and_prefill_time() -> None:
    counters = engine_counters(ChatCompletionChunk.model_validate(LLAMACPP_LAST))
    assert counters is not None
    assert counters.source == "timings"
    assert counters.prompt_tokens == 142  # prompt_n (computed) + cache_n (reused)
    assert counters.cached_tokens == 141
    assert counters.prompt_ms == 7.256 and counters.decode_ms == 81.107
    assert counters.queue_ms is None  # llama.cpp does not say


def test_vllm_usage_details_give_cached_tokens() -> None:
    counters = engine_counters(ChatCompletionChunk.model_validate(VLLM_LAST))
    assert counters is not None
    assert (counters.prompt_tokens, counters.cached_tokens, counters.source) == (300, 208,
                                                                                  "usage")
    assert counters.prompt_ms is None


def test_no_counters_without_details_or_timings() -> None:
    plain = {**VLLM_LAST, "usage": {"prompt_tokens": 3, "completion_tokens": 2,
                                    "total_tokens": 5}}
    assert engine_counters(ChatCompletionChunk.model_validate(plain)) is None
    content = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}
    assert engine_counters(ChatCompletionChunk.model_validate(content)) is None


def test_odd_timings_values_are_dropped_not_trusted() -> None:
    odd = {**LLAMACPP_LAST, "timings": {"prompt_n": -1, "cache_n": "many", "prompt_ms": None}}
    counters = engine_counters(ChatCompletionChunk.model_validate(odd))
    assert counters is not None
    assert counters.prompt_tokens is None and counters.cached_tokens is None
