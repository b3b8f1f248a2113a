"""GGUF -> HF conversion for vLLM: real transformers in the vLLM venv, into a fresh cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.settings import Settings
from workbench.stacks.conversion import converted_dir, ensure_converted, recipe_gguf
from workbench.stacks.models import file_digest
from workbench.stacks.recipe import get_stack

pytestmark = [pytest.mark.slow, pytest.mark.vllm]


def test_conversion_is_cached_by_digest_and_atomic(settings: Settings, tmp_path: Path) -> None:
    if not settings.vllm_python_path.is_file():
        pytest.skip("the vLLM CPU venv is not built (make vllm)")
    fresh = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    fresh.__dict__["vllm_python_path"] = settings.vllm_python_path  # same venv, new cache
    gguf = recipe_gguf(get_stack("vllm-cpu", settings.stacks_dir))
    dest = ensure_converted(gguf, fresh)
    assert dest == converted_dir(gguf, fresh) == tmp_path / "cache" / "models" / file_digest(gguf)
    config = json.loads((dest / "config.json").read_text())
    assert "quantization_config" not in config
    assert json.loads((dest / "generation_config.json").read_text())["eos_token_id"] == 2
    assert (dest / "tokenizer.json").is_file() and list(dest.glob("*.safetensors"))
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no temp folder left
    mtime = (dest / "config.json").stat().st_mtime
    assert ensure_converted(gguf, fresh) == dest
    assert (dest / "config.json").stat().st_mtime == mtime  # cached: not converted again
