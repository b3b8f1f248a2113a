"""Ollama launch logic against the FAKE `ollama` (fake_ollama.py: no Ollama binary exists
here, so it is built from Ollama's documented CLI and API), and Ollama's absence."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import OpenAI

from tests.stacks.conftest import stack_on_free_ports
from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.stacks.engines import EngineUnavailableError
from workbench.stacks.process import port_in_use
from workbench.stacks.sides import default_sides
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

    client = OpenAI(base_url=running.engine_url, api_key="ollama")
    reply = client.chat.completions.create(
        model="smollm2-135m-instruct",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    assert "Paris" in (reply.choices[0].message.content or "")

    [st] = status(settings)
    assert st.state == "running" and st.engine_version == "Ollama 0.12.6-fake"
    from workbench.stacks.engines.ollama import OllamaAdapter

    assert OllamaAdapter().model_listed(stack)

    launcher.down(None, settings)
    assert not port_in_use("127.0.0.1", stack.ports.engine or 0)
    assert load_state(stack.name, settings) is None


def test_ollama_missing_is_a_clear_error(settings: Settings, no_ollama: None) -> None:
    stack = stack_on_free_ports("ollama-cpu", settings)
    with pytest.raises(EngineUnavailableError) as err:
        launcher.up(stack, settings, with_rag=False)
    assert "ollama" in str(err.value) and "not installed" in str(err.value)
    assert "llamacpp-cpu" in str(err.value)
    assert load_state(stack.name, settings) is None  # nothing was started or recorded


def test_default_side_a_follows_ollama_on_path(fake_ollama: Path) -> None:
    assert default_sides(gpu=False).a == "ollama-cpu"


def test_default_side_a_without_ollama(no_ollama: None) -> None:
    sides = default_sides(gpu=False)
    assert sides.a == "llamacpp-cpu" and "not installed" in " ".join(sides.notes)
