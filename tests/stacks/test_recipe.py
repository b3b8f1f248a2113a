"""Recipes: every shipped one loads; bad ones fail naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.settings import PROJECT_ROOT
from workbench.stacks.launcher import check_cpuset
from workbench.stacks.recipe import RecipeError, check_port_clashes, load_recipe, load_stacks

REQUIRED = {
    "ollama-cpu", "ollama-gpu", "vllm-cpu", "vllm-gpu", "llamacpp-cpu", "llamacpp-gpu", "external",
}  # fmt: skip

GOOD = """\
name: {name}
engine: llamacpp
model: {{name: smollm2-135m-instruct}}
ports: {{rag: 18000, engine: 18001}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_required_recipe_ships_and_loads() -> None:
    stacks = load_stacks(PROJECT_ROOT / "stacks")
    assert REQUIRED <= set(stacks)
    for name in ("ollama-gpu", "vllm-gpu", "llamacpp-gpu"):
        assert stacks[name].launch == "compose" and stacks[name].variant == "gpu"
        assert stacks[name].compose is not None
    assert stacks["ollama-cpu"].engine == "ollama" and stacks["ollama-cpu"].launch == "native"
    projects = [s.compose.project for s in stacks.values() if s.compose]
    assert len(projects) == len(set(projects)), "compose project names must be distinct"


def test_default_pair_does_not_clash() -> None:
    stacks = load_stacks(PROJECT_ROOT / "stacks")
    check_port_clashes([stacks["llamacpp-cpu"], stacks["vllm-cpu"]])
    check_port_clashes([stacks["ollama-gpu"], stacks["vllm-gpu"]])


def test_good_recipe_loads(tmp_path: Path) -> None:
    stack = load_recipe(write(tmp_path, "ok", GOOD.format(name="ok")))
    assert stack.ports.engine == 18001
    assert stack.source_path == tmp_path / "ok.yaml"


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", GOOD.format(name="bad") + "resources: {threads: 2, turbo: 1}\n")
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert str(path) in str(err.value)
    assert "field resources.turbo: unknown key" in str(err.value)


def test_unknown_engine_kind_lists_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", GOOD.format(name="bad").replace("llamacpp", "llamafile"))
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    msg = str(err.value)
    assert f"{path}: field engine: unknown engine kind 'llamafile'" in msg
    for kind in ("ollama", "vllm", "llamacpp", "external"):
        assert kind in msg


def test_engine_port_clashing_with_rag_port(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", GOOD.format(name="bad").replace("18001", "18000"))
    with pytest.raises(RecipeError, match=r"bad\.yaml: field ports\.engine: clashes with"):
        load_recipe(path)


def test_port_clash_between_two_stacks_names_both(tmp_path: Path) -> None:
    one = load_recipe(write(tmp_path, "one", GOOD.format(name="one")))
    two = load_recipe(write(tmp_path, "two", GOOD.format(name="two")))
    with pytest.raises(RecipeError) as err:
        check_port_clashes([one, two])
    assert "two.yaml: field ports.rag: port 18000 clashes with" in str(err.value)
    assert "one.yaml" in str(err.value)


@pytest.mark.parametrize("cpuset", ["0-a", "0;1", "1,", "all"])
def test_malformed_cpuset(tmp_path: Path, cpuset: str) -> None:
    text = GOOD.format(name="bad") + f'resources: {{cpuset: "{cpuset}"}}\n'
    with pytest.raises(RecipeError, match=r"bad\.yaml: field resources\.cpuset"):
        load_recipe(write(tmp_path, "bad", text))


@pytest.mark.parametrize(("cpuset", "why"), [("4095", "not available"), ("1-0", "reversed")])
def test_cpuset_not_usable_here(tmp_path: Path, cpuset: str, why: str) -> None:
    text = GOOD.format(name="bad") + f'resources: {{cpuset: "{cpuset}"}}\n'
    stack = load_recipe(write(tmp_path, "bad", text))
    with pytest.raises(RecipeError, match=rf"bad\.yaml: field resources\.cpuset: .*{why}"):
        check_cpuset(stack)


@pytest.mark.parametrize("model", ["x; rm -rf /", "m$(id)", "a|b", "a b", "`x`", "-rf"])
def test_shell_metacharacters_in_model_name_rejected(tmp_path: Path, model: str) -> None:
    text = GOOD.format(name="bad").replace("smollm2-135m-instruct", model.replace('"', ""))
    text = text.replace("{name: " + model, '{name: "' + model + '"')
    with pytest.raises(RecipeError, match=r"bad\.yaml: field model\.name"):
        load_recipe(write(tmp_path, "bad", text))


def test_name_must_match_file(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"other\.yaml: field name"):
        load_recipe(write(tmp_path, "other", GOOD.format(name="ok")))


def test_bad_env_name(tmp_path: Path) -> None:
    text = GOOD.format(name="bad") + 'env: {"LD_PRELOAD;x": "1"}\n'
    with pytest.raises(RecipeError, match=r"bad\.yaml: field env"):
        load_recipe(write(tmp_path, "bad", text))
