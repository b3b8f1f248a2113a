"""Manifest fairness checks on two stack recipes."""

from __future__ import annotations

from typing import Any

from workbench.report import fairness_warnings
from workbench.stacks.recipe import Generation, Ports, Retrieval, Stack


def _stack(name: str, **changes: Any) -> dict[str, Any]:
    gen = Generation(**changes.pop("generation", {}))
    ret = Retrieval(**changes.pop("retrieval", {}))
    stack = Stack(name=name, engine="llamacpp", model={"name": "smollm2"},  # type: ignore[arg-type]
                  ports=Ports(rag=8000 if name == "a" else 9000, engine=8080),
                  generation=gen, retrieval=ret)
    return stack.model_dump(mode="json")


def _manifest(a: dict[str, Any], b: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"stacks": {"A": a, "B": b}, **extra}


def test_same_settings_are_fair() -> None:
    assert fairness_warnings(_manifest(_stack("a"), _stack("b"))) == []


def test_each_difference_is_named() -> None:
    a = _stack("a")
    b = _stack("b", generation={"max_tokens": 256, "prompt": "ru", "context_window": 4096},
               retrieval={"top_k": 8, "mode": "dense", "embedding_model": "other"})
    text = "\n".join(fairness_warnings(_manifest(a, b)))
    for phrase in ("max tokens differs: a 96, b 256", "prompt template differs",
                   "context window differs", "retrieval top_k differs: a 4, b 8",
                   "retrieval mode differs: a 'hybrid', b 'dense'", "embedding model differs"):
        assert phrase in text


def test_sampling_eval_set_and_schedule() -> None:
    a, b = _stack("a"), _stack("b", generation={"temperature": 0.7})
    warnings = fairness_warnings(_manifest(a, b, evalsets={"A": "demo-en", "B": "demo-ru"},
                                           schedule="parallel"))
    text = "\n".join(warnings)
    assert "temperature differs: a 0.0, b 0.7" in text
    assert "b samples at temperature 0.7" in text
    assert "eval set differs: a 'demo-en', b 'demo-ru'" in text
    assert "parallel schedule" in text


def test_missing_manifest_is_said() -> None:
    assert "no run manifest" in fairness_warnings(None)[0]
    assert "lacks the stacks' recipes" in fairness_warnings({"stacks": {"A": {}}})[0]


def test_candidates_are_each_checked_against_the_named_baseline() -> None:
    """A manifest of an N-stack run keys recipes by stack name and names the baseline."""
    base, same, other = _stack("a"), _stack("b"), _stack("c", generation={"max_tokens": 32})
    manifest = {"baseline": "b", "stacks": {"c": other, "a": base, "b": same}}
    text = "\n".join(fairness_warnings(manifest))
    assert "max tokens differs: b 96, c 32" in text
    assert "a 96" not in text  # a matches the baseline: nothing said of it


def test_stacks_on_different_indexes_are_named_and_one_shared_index_is_not() -> None:
    base, other = _stack("a"), _stack("b")
    shared = {"stacks": {"a": base, "b": other}, "indexes": {"a": "f" * 64, "b": "f" * 64}}
    assert fairness_warnings(shared) == []
    split = {**shared, "indexes": {"a": "1" * 64, "b": "2" * 64}}
    [warning] = fairness_warnings(split)
    assert "searched different indexes (a 111111111111, b 222222222222)" in warning


def test_prefix_caching_that_differs_is_flagged_and_alike_is_not() -> None:
    a, b = _stack("a"), _stack("b", generation={"prefix_caching": False})
    on = {"on": True, "from": "engine default"}
    off = {"on": False, "from": "recipe"}
    text = "\n".join(fairness_warnings(_manifest(a, b, prefix_caching={"A": on, "B": off})))
    assert "prefix caching differs: a on, b off" in text
    assert "set generation.prefix_caching alike" in text
    same = _manifest(a, _stack("b"), prefix_caching={"A": on, "B": dict(on)})
    assert not any("prefix caching" in w for w in fairness_warnings(same))
    unknown = _manifest(a, b, prefix_caching={"A": on, "B": {"on": None}})
    assert "prefix caching differs: a on, b unknown" in "\n".join(fairness_warnings(unknown))
    # Runs stored before the manifest recorded it say nothing about it.
    assert not any("prefix caching" in w for w in fairness_warnings(_manifest(a, b)))
