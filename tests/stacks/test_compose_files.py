"""The GPU compose files parse and carry what a GPU server needs (they cannot run here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from workbench.settings import PROJECT_ROOT
from workbench.stacks.engines.compose import compose_file
from workbench.stacks.recipe import load_stacks

ENGINES = {
    "ollama-gpu": ("ollama", "ollama/ollama", "11434"),
    "vllm-gpu": ("vllm", "vllm/vllm-openai", "8000"),
    "llamacpp-gpu": ("llamacpp", "ghcr.io/ggml-org/llama.cpp:server-cuda", "8080"),
}


def load(name: str) -> dict[str, Any]:
    stack = load_stacks(PROJECT_ROOT / "stacks")[name]
    data = yaml.safe_load(compose_file(stack).read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_compose_file_services(name: str) -> None:
    service, image, inner_port = ENGINES[name]
    stack = load_stacks(PROJECT_ROOT / "stacks")[name]
    assert stack.compose is not None and stack.compose.service == service
    services = load(name)["services"]
    assert set(services) == {service, "qdrant"}
    engine = services[service]
    assert engine["image"].startswith(image)
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    # Host side bound to loopback by default, host port from the launcher's environment.
    host_port = f"${{ENGINE_PORT:-{stack.ports.engine}}}"
    assert engine["ports"] == [f"${{BIND_HOST:-127.0.0.1}}:{host_port}:{inner_port}"]
    assert services["qdrant"]["ports"][0].startswith("${BIND_HOST:-127.0.0.1}:${QDRANT_PORT:-")
    [device] = engine["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert device["device_ids"] == ["${GPU_IDS:-0}"]  # resources.gpus, from the launcher
    for svc in services.values():
        assert svc["healthcheck"]["test"], svc
    assert "qdrant-data" in load(name)["volumes"]


def test_hf_token_passed_through_not_written() -> None:
    env = load("vllm-gpu")["services"]["vllm"]["environment"]
    assert env["HF_TOKEN"] == "${HF_TOKEN:-}"
    assert "hf-cache" in load("vllm-gpu")["volumes"]
    assert "ollama-models" in load("ollama-gpu")["volumes"]


def test_vllm_compose_takes_the_recipes_memory_share(tmp_path: Path) -> None:
    from workbench.stacks.engines.compose import compose_env

    command = load("vllm-gpu")["services"]["vllm"]["command"]
    assert "--gpu-memory-utilization=${GPU_MEMORY_SHARE:-0.9}" in command
    stack = load_stacks(PROJECT_ROOT / "stacks")["vllm-gpu"]
    placed = stack.model_copy(update={"resources": stack.resources.model_copy(
        update={"gpus": "1", "gpu_memory_share": 0.4})})
    env = compose_env(placed, tmp_path)
    assert env["GPU_IDS"] == "1" and env["GPU_MEMORY_SHARE"] == "0.4"
    assert compose_env(stack, tmp_path)["GPU_MEMORY_SHARE"] == "0.9"
