"""The launcher with a real vLLM on CPU: converted model, correct answer, clean down."""

from __future__ import annotations

import psutil
import pytest
from openai import OpenAI

from tests.stacks.conftest import stack_on_free_ports
from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.stacks.conversion import converted_dir, recipe_gguf
from workbench.stacks.process import port_in_use
from workbench.stacks.status import status

pytestmark = [pytest.mark.slow, pytest.mark.vllm]


def test_vllm_cpu_answers_and_stops_cleanly(settings: Settings) -> None:
    if not settings.vllm_python_path.is_file():
        pytest.skip("the vLLM CPU venv is not built (make vllm)")
    stack = stack_on_free_ports("vllm-cpu", settings)
    running = launcher.up(stack, settings, with_rag=False)
    # The GGUF was converted once into the digest-keyed cache, bf16 safetensors + eos fix.
    folder = converted_dir(recipe_gguf(stack), settings)
    assert (folder / "config.json").is_file() and list(folder.glob("*.safetensors"))
    assert '"eos_token_id": 2' in (folder / "generation_config.json").read_text()

    client = OpenAI(base_url=running.engine_url, api_key="none")
    reply = client.chat.completions.create(
        model="smollm2-135m-instruct",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=32,
        temperature=0,
    )
    assert "Paris" in (reply.choices[0].message.content or "")

    [st] = status(settings)
    assert st.state == "running" and st.engine_version == "vLLM 0.32.0"
    engine_pid = st.pids["engine"]
    tree = [engine_pid, *(c.pid for c in psutil.Process(engine_pid).children(recursive=True))]
    assert len(tree) >= 2  # the API server forks an engine core process
    assert st.rss_mib["engine"] > 500

    launcher.down([stack.name], settings)
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in tree)
    assert not port_in_use("127.0.0.1", stack.ports.engine or 0)
    assert status(settings) == []
