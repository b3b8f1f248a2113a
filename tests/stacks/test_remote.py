"""`launch: remote` with the engines that cannot run here, as fakes built from their
documented APIs: TGI (tests/fakes/fake_tgi.py) on 127.0.0.3 and Ollama
(tests/stacks/fake_ollama.py) on 127.0.0.2, both loopback aliases standing in for other
machines. Only the stack's RAG service starts here; what the engine serves goes into
identity.json and the run manifest; the API key is sent and never stored or logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.stacks.conftest import FAKE_OLLAMA, port_on
from workbench.rag.generation import EngineClient, EngineError
from workbench.records.evalset import EvalSet
from workbench.report.fairness import fairness_warnings
from workbench.runner.manifest import build_manifest, model_digest
from workbench.settings import PROJECT_ROOT, Settings
from workbench.stacks import identity, launcher
from workbench.stacks.models import gguf_digest, resolve_gguf
from workbench.stacks.process import LaunchError, Server
from workbench.stacks.recipe import PACKAGED_GGUF, Stack, get_stack
from workbench.stacks.state import run_dir
from workbench.stacks.status import status

FAKE_TGI = PROJECT_ROOT / "tests" / "fakes" / "fake_tgi.py"
SECRET = "sk-test-4c1d2f0e9b8a7"  # a key that must never be written anywhere


@pytest.fixture
def tgi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """The fake TGI on 127.0.0.3 requiring SECRET; yields its URL and its request log."""
    port = port_on("127.0.0.3")
    log = tmp_path / "tgi-requests.jsonl"
    server = Server(
        name="fake TGI",
        argv=[sys.executable, str(FAKE_TGI), "--host", "127.0.0.3", "--port", str(port)],
        health_url=f"http://127.0.0.3:{port}/health",
        log=tmp_path / "fake-tgi.log",
        env={"FAKE_TGI_API_KEY": SECRET, "FAKE_TGI_LOG": str(log)},
        timeout_s=30,
    )
    monkeypatch.setenv("TGI_TEST_KEY", SECRET)
    with server:
        yield f"http://127.0.0.3:{port}", log


def tgi_stack(url: str, settings: Settings, **update: object) -> Stack:
    stack = get_stack("tgi-remote", settings.stacks_dir)
    ports = stack.ports.model_copy(update={"rag": port_on("127.0.0.1")})
    return stack.model_copy(update={"engine_url": url, "api_key_env": "TGI_TEST_KEY",
                                    "ports": ports, "allow_remote": True, **update})


def _written_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_tgi_remote_runs_only_the_rag_service_and_records_what_tgi_serves(
        settings: Settings, tgi: tuple[str, Path], capfd: pytest.CaptureFixture[str]) -> None:
    url, requests_log = tgi
    stack = tgi_stack(url, settings)
    running = launcher.up(stack, settings)
    assert [p.role for p in running.state.processes] == ["rag"]  # no engine started here
    said = capfd.readouterr().err
    assert f"goes to {url} (REMOTE, allowed by allow_remote)" in said

    served = json.loads((run_dir(stack.name, settings) / "identity.json").read_text())
    assert served["version"] == "TGI 3.3.6-fake"
    assert served["details"]["model_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert served["details"]["model_sha"].startswith("12fd25f7")
    assert served["context"] == 4096 and served["models"] == [served["details"]["model_id"]]
    assert "tgi_request_count" in served["metrics"] and served["proven"] is False
    assert served["model_listed"]  # TGI lists the checkpoint: the recipe's model.hf_id

    # The RAG service answers through TGI's Messages API (which would refuse top_p 1.0).
    rag = running.rag_url
    passages = [{"id": "tern", "title": "Tern 3",
                 "text": "The Tern 3 lighthouse watches over Hallam harbour every night."}]
    assert httpx.post(f"{rag}/index", json={"space_id": "s", "passages": passages},
                      timeout=120).status_code == 200
    before = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {SECRET}"}).text
    answer = httpx.post(f"{rag}/ask", json={"q": "Which harbour does Tern 3 watch?",
                                            "space_id": "s"}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["engine"] == "tgi" and "harbour" in body["answer"]  # the fake echoes the prompt
    assert body["sources"][0]["doc_id"] == "tern"
    after = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {SECRET}"}).text
    assert "tgi_request_success 0" in before and "tgi_request_success 1" in after

    # Every request to TGI carried the key (the fake checked it) ...
    hits = [json.loads(line) for line in requests_log.read_text().splitlines()]
    assert {h["path"] for h in hits} >= {"/health", "/info", "/v1/models", "/metrics",
                                         "/v1/chat/completions"}
    assert all(h["key_ok"] for h in hits if h["path"] != "/health")
    # ... and nothing the workbench wrote holds it: state, recipe, identity, logs.
    files = _written_files(settings.state_dir)
    assert any(p.name == "rag.log" for p in files)
    for path in files:
        assert SECRET not in path.read_text(errors="replace"), path

    [st] = status(settings)
    assert st.state == "running" and st.engine_health == "up"
    assert st.engine_version == "TGI 3.3.6-fake" and set(st.pids) == {"rag"}


def test_tgi_remote_in_the_manifest_and_fairness(settings: Settings,
                                                 tgi: tuple[str, Path]) -> None:
    url, _ = tgi
    stack = tgi_stack(url, settings)
    base = get_stack("llamacpp-cpu", settings.stacks_dir)
    evalset = EvalSet(name="e", passages=[], questions=[], source="", digest="d")
    manifest = build_manifest(evalset, {"llamacpp-cpu": base, "tgi-remote": stack},
                              schedule="interleaved", concurrency=1, timeout_s=30, warmup=0,
                              limit=None).to_json()
    served = manifest["served"]["tgi-remote"]
    assert served["details"]["model_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert served["metrics"]["tgi_request_count"] == 0
    assert "llamacpp-cpu" not in manifest["served"]  # started here: its GGUF is hashed
    assert manifest["engine_versions"]["tgi-remote"] == "TGI 3.3.6-fake"
    entry = manifest["models"]["tgi-remote"]
    assert entry["sha256"] is None and "known by name only" in entry["note"]
    assert SECRET not in json.dumps(manifest)
    warnings = fairness_warnings(manifest)
    assert any(w.startswith("tgi-remote: model identity cannot be proven (remote engine: "
                            "known by name only") for w in warnings), warnings
    assert not any("does not list" in w for w in warnings), warnings


async def test_wrong_key_and_unreachable_engine_are_clear(
        settings: Settings, tgi: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = tgi
    monkeypatch.setenv("TGI_TEST_KEY", "wrong")
    stack = tgi_stack(url, settings)
    # TGI keeps /info, /health, /metrics and /v1/models outside its key check: the identity
    # probe still reads them, so a wrong key shows only when a question is asked.
    served = identity.served_identity(stack, fresh=True)
    assert served["models"] == ["HuggingFaceTB/SmolLM2-135M-Instruct"], served
    assert not any("HTTP 401" in n for n in served["notes"]), served["notes"]
    client = EngineClient(f"{url}/v1", "tgi", stack.generation, api_key_env="TGI_TEST_KEY",
                          engine="tgi")
    with pytest.raises(EngineError, match=rf"engine at {url}/v1 answered HTTP 401"):
        await client.open([{"role": "user", "content": "hello"}], max_tokens=4)
    dead = f"http://127.0.0.3:{port_on('127.0.0.3')}"
    with pytest.raises(LaunchError, match=f"does not answer at {dead}/health"):
        launcher.up(tgi_stack(dead, settings), settings)
    assert status(settings) == []  # nothing left behind


def test_another_host_needs_allow_remote(settings: Settings, tgi: tuple[str, Path]) -> None:
    # 127.0.0.3 stands in for another machine: without allow_remote nothing is sent there.
    url, requests_log = tgi
    stack = tgi_stack(url, settings, allow_remote=False)
    with pytest.raises(LaunchError, match=r"tgi-remote\.yaml: field engine_url: tgi-remote: "
                                          r"engine http://127\.0\.0\.3:\d+ is not on this "
                                          r"machine .* only with `allow_remote: true`"):
        launcher.up(stack, settings)
    served = identity.served_identity(stack)
    assert served["reachable"] is None and "not asked" in served["notes"][0]
    assert "was not asked" in identity.remote_model_entry(stack, served)["note"]
    # Not one request from the workbench reached the server (only the fixture's health polls).
    assert {json.loads(line)["path"] for line in requests_log.read_text().splitlines()} == {
        "/health"}
    # Allowed, a host outside WORKBENCH_REMOTE_HOSTS (the tests' 127.0.0.2/3) is still not.
    far = tgi_stack("http://192.0.2.7:8080", settings)  # TEST-NET-1: never routed
    with pytest.raises(LaunchError, match="is not in WORKBENCH_REMOTE_HOSTS"):
        launcher.up(far, settings)


def test_remote_recipe_needs_engine_url(tmp_path: Path) -> None:
    from workbench.stacks.recipe import RecipeError, load_recipe

    path = tmp_path / "r.yaml"
    path.write_text("name: r\nengine: vllm\nlaunch: remote\nmodel: {name: m}\n"
                    "ports: {rag: 18000}\n")
    with pytest.raises(RecipeError, match=r"r\.yaml: field engine_url: launch: remote needs"):
        load_recipe(path)


@pytest.fixture
def remote_ollama(tmp_path: Path, no_ollama: None) -> Iterator[str]:
    """The fake `ollama serve` on 127.0.0.2 with the packaged GGUF created there (as its
    owner would, with the remote machine's own CLI); no `ollama` on this PATH."""
    port = port_on("127.0.0.2")
    env = {"OLLAMA_HOST": f"127.0.0.2:{port}", "FAKE_OLLAMA_DIR": str(tmp_path / "ollama")}
    server = Server(name="fake Ollama", argv=[sys.executable, str(FAKE_OLLAMA), "serve"],
                    health_url=f"http://127.0.0.2:{port}/api/version",
                    log=tmp_path / "ollama.log", env=env, timeout_s=30)
    modelfile = tmp_path / "Modelfile"
    gguf = resolve_gguf(PACKAGED_GGUF)
    modelfile.write_text(f"FROM {gguf}\nPARAMETER num_ctx 1024\n")
    with server:
        subprocess.run([sys.executable, str(FAKE_OLLAMA), "create", "smollm2-135m-instruct",
                        "-f", str(modelfile)], env={**os.environ, **env}, check=True,
                       capture_output=True, timeout=60)
        yield f"http://127.0.0.2:{port}"


def test_ollama_remote_without_a_local_binary_proves_its_weights(
        settings: Settings, remote_ollama: str) -> None:
    base = get_stack("ollama-remote", settings.stacks_dir)
    stack = base.model_copy(update={"engine_url": remote_ollama, "allow_remote": True})
    running = launcher.up(stack, settings, with_rag=False)  # no AssertionError, no binary
    assert running.state.processes == [] and running.engine_url == f"{remote_ollama}/v1"
    served = json.loads((run_dir(stack.name, settings) / "identity.json").read_text())
    packaged = gguf_digest(resolve_gguf(PACKAGED_GGUF))
    assert served["gguf_sha256"] == packaged and served["proven"] is True
    assert served["context"] == 1024 and served["version"] == "Ollama 0.12.6-fake"
    assert served["models"] == ["smollm2-135m-instruct:latest"] and served["model_listed"]
    assert len(served["digest"]) == 64 and "metrics" not in served  # Ollama has no /metrics
    entry = model_digest(stack)
    assert entry["sha256"] == packaged and entry["registry"] == "smollm2-135m-instruct"
    # The same weights as a local llama.cpp stack: identity proven on both sides, but the
    # server's num_ctx 1024 is below the recipe's window 2048, and fairness says so.
    evalset = EvalSet(name="e", passages=[], questions=[], source="", digest="d")
    local = get_stack("llamacpp-cpu", settings.stacks_dir)
    manifest = build_manifest(evalset, {"llamacpp-cpu": local, "ollama-remote": stack},
                              schedule="interleaved", concurrency=1, timeout_s=30, warmup=0,
                              limit=None).to_json()
    warnings = fairness_warnings(manifest)
    assert not any("cannot be proven" in w for w in warnings), warnings
    assert any("ollama-remote: the engine at" in w and "context of 1024 tokens, below the "
               "recipe's context_window 2048" in w for w in warnings), warnings


def test_ollama_remote_that_lacks_the_model_is_refused(settings: Settings,
                                                        remote_ollama: str) -> None:
    base = get_stack("ollama-remote", settings.stacks_dir)
    model = base.model.model_copy(update={"name": "qwen-missing"}) if base.model else None
    stack = base.model_copy(update={"engine_url": remote_ollama, "model": model,
                                    "allow_remote": True})
    with pytest.raises(LaunchError, match=r"does not serve 'qwen-missing' .* it lists: "
                                          r"smollm2-135m-instruct:latest"):
        launcher.up(stack, settings, with_rag=False)


def test_openai_kind_by_url_is_probed_through_v1_models(settings: Settings,
                                                        remote_ollama: str) -> None:
    # Any OpenAI-compatible server (here Ollama's /v1) as `engine: openai`.
    base = get_stack("llamacpp-remote", settings.stacks_dir)
    stack = base.model_copy(update={"engine": "openai", "engine_url": f"{remote_ollama}/v1",
                                    "name": "openai-remote"})
    running = launcher.up(stack, settings, with_rag=False)
    assert running.state.processes == [] and running.engine_url == f"{remote_ollama}/v1"
    served = json.loads((run_dir(stack.name, settings) / "identity.json").read_text())
    assert served["models"] == ["smollm2-135m-instruct:latest"] and served["model_listed"]
    entry = model_digest(stack)  # the local GGUF says nothing about a hosted model
    assert entry["sha256"] is None and "known by name only" in entry["note"]
