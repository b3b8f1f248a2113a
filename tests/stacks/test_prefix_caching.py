"""The recipe's prefix-caching switch: each engine's command line, the request llama.cpp
gets, and what the manifest records (no engine started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.runner.manifest import prefix_caching
from workbench.settings import Settings
from workbench.stacks.engines import LaunchContext, adapter_for
from workbench.stacks.engines.vllm import VllmAdapter
from workbench.stacks.recipe import Stack, get_stack


def _recipe(name: str, settings: Settings, setting: bool | None) -> Stack:
    stack = get_stack(name, settings.stacks_dir)
    gen = stack.generation.model_copy(update={"prefix_caching": setting})
    return stack.model_copy(update={"generation": gen})


def _argv(stack: Stack, settings: Settings, tmp_path: Path) -> list[str]:
    c = LaunchContext(settings=settings, run_dir=tmp_path / "run")
    adapter = VllmAdapter() if stack.engine == "vllm" else adapter_for(stack)
    proc = adapter.engine_process(stack, c)
    assert proc is not None
    return proc.argv


@pytest.mark.parametrize(("setting", "flag"), [(None, None), (True, "--cache-prompt"),
                                               (False, "--no-cache-prompt")])
def test_llamacpp_flag(settings: Settings, tmp_path: Path, setting: bool | None,
                       flag: str | None) -> None:
    argv = _argv(_recipe("llamacpp-cpu", settings, setting), settings, tmp_path)
    found = [a for a in argv if a in ("--cache-prompt", "--no-cache-prompt")]
    assert found == ([flag] if flag else [])


@pytest.mark.parametrize(("setting", "flag"), [(None, None), (True, "--enable-prefix-caching"),
                                               (False, "--no-enable-prefix-caching")])
def test_vllm_flag_and_cached_token_details(settings: Settings, tmp_path: Path,
                                            setting: bool | None, flag: str | None) -> None:
    stack = _recipe("vllm-cpu", settings, setting)
    stack = stack.model_copy(update={"engine_args": ["--block-size", "16"]})
    argv = _argv(stack, settings, tmp_path)
    found = [a for a in argv if a.endswith("prefix-caching")]
    assert found == ([flag] if flag else [])
    assert "--enable-prompt-tokens-details" in argv  # cached tokens per request in usage
    # The recipe's own engine_args come last, so a user's flag still wins.
    assert argv[-2:] == ["--block-size", "16"]


def test_recipe_rejects_a_non_boolean(settings: Settings) -> None:
    stack = get_stack("vllm-cpu", settings.stacks_dir)
    data = stack.model_dump(mode="json")
    data["generation"]["prefix_caching"] = "sometimes"
    with pytest.raises(ValueError, match="prefix_caching"):
        Stack.model_validate(data)


def test_manifest_records_the_setting_or_the_engine_default(settings: Settings) -> None:
    assert prefix_caching(_recipe("vllm-cpu", settings, None)) == {
        "on": True, "from": "engine default"}
    assert prefix_caching(_recipe("llamacpp-cpu", settings, False)) == {
        "on": False, "from": "recipe"}
    assert prefix_caching(_recipe("ollama-cpu", settings, None))["on"] is True
    external = get_stack("external", settings.stacks_dir)
    assert prefix_caching(external)["on"] is None  # a backend of its own: unknown
