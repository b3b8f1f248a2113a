"""Ollama launch logic and the RAG service's streaming path to Ollama, against the FAKE
`ollama` (fake_ollama.py: no Ollama binary exists here, so it is built from Ollama's
documented CLI and API, streaming included), and Ollama's absence."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.stacks.conftest import stack_on_free_ports
from workbench.rag.generation import EngineClient, GenerationStats
from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.stacks.defaults import default_stacks
from workbench.stacks.engines import EngineUnavailableError
from workbench.stacks.process import port_in_use
from workbench.stacks.state import load_state
from workbench.stacks.status import status


def test_ollama_stack_serves_created_model(settings: Settings, fake_ollama: Path) -> None:
    stack = stack_on_free_ports("ollama-cpu", settings)
    running = launcher.up(stack, settings, with_rag=False)
    engine = running.state.process("engine")
    assert engine is not None and engine.argv[-1] == "serve"
    assert Path(engine.argv[0]).parent.name == "bin"  # the fake on PATH, nothing else

    # `ollama create` got a Modelfile from the same GGUF with num_ctx and ChatML.
    recorded = (fake_ollama / "smollm2-135m-instruct.Modelfile").read_text()
    assert recorded.startswith("FROM ") and "SmolLM2-135M-Instruct.Q4_1.gguf" in recorded
    assert "PARAMETER num_ctx 2048" in recorded and "<|im_start|>" in recorded

    # /api/show reports what the launcher created: the Modelfile's context and template.
    assert running.engine_url is not None
    root = running.engine_url.removesuffix("/v1")
    shown = httpx.post(f"{root}/api/show", json={"model": "smollm2-135m-instruct"}).json()
    assert "num_ctx 2048" in shown["parameters"].splitlines()
    assert "<|im_start|>" in shown["template"]

    # The RAG service's own generation client, streaming from the engine it launched.
    question = "Which harbour does the Tern 3 watch over tonight?"
    client = EngineClient(running.engine_url, "smollm2-135m-instruct", stack.generation)
    stats, pieces, stamps = asyncio.run(_stream(client, question, max_tokens=5))
    # The fake echoes the question one word per token: the text is this request's, cut
    # at max_tokens, and the token counts are the server's usage chunk.
    assert pieces == ["Which", " harbour", " does", " the", " Tern"]
    assert stats.text == "Which harbour does the Tern" and stats.finish_reason == "length"
    assert stats.completion_tokens == 5
    assert stats.prompt_tokens == len("Answer in one sentence.".split()) + len(question.split())
    # Timing is measured on arrival: the 50 ms prefill before the first token, then one
    # token every 20 ms. Only totals are lower-bounded: on a busy machine a late read can
    # take two chunks back to back, so a single gap has no floor, but the last token can
    # never arrive before the server has slept 50 ms and then 4 x 20 ms.
    assert stats.ttft_ms is not None and stats.ttft_ms >= 45
    assert len(stamps) == 5 and stamps == sorted(stamps)
    # From the request's start (the only fixed point: a late first read shortens the gap
    # between first and last token, never the time to the last one).
    assert stats.generation_ms >= 45 + 4 * 18

    [st] = status(settings)
    assert st.state == "running" and st.engine_version == "Ollama 0.12.6-fake"
    from workbench.stacks.engines.ollama import OllamaAdapter

    assert OllamaAdapter().model_listed(stack)

    launcher.down(None, settings)
    assert not port_in_use("127.0.0.1", stack.ports.engine or 0)
    assert load_state(stack.name, settings) is None


async def _stream(client: EngineClient, question: str,
                  max_tokens: int) -> tuple[GenerationStats, list[str], list[float]]:
    messages = [{"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": question}]
    stream = await client.open(messages, max_tokens)
    pieces, stamps = [], []
    async for piece in stream.pieces():
        pieces.append(piece)
        stamps.append(time.perf_counter())
    return stream.stats, pieces, stamps


def test_ollama_missing_is_a_clear_error(settings: Settings, no_ollama: None) -> None:
    stack = stack_on_free_ports("ollama-cpu", settings)
    with pytest.raises(EngineUnavailableError) as err:
        launcher.up(stack, settings, with_rag=False)
    assert "ollama" in str(err.value) and "not installed" in str(err.value)
    assert "llamacpp-cpu" in str(err.value)
    assert load_state(stack.name, settings) is None  # nothing was started or recorded


def test_default_side_a_follows_ollama_on_path(fake_ollama: Path) -> None:
    assert default_stacks(gpu=False).baseline == "ollama-cpu"


def test_default_side_a_without_ollama(no_ollama: None) -> None:
    chosen = default_stacks(gpu=False)
    assert chosen.baseline == "llamacpp-cpu" and "not installed" in " ".join(chosen.notes)
