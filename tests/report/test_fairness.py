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
    for phrase in ("max tokens differs: A 96, B 256", "prompt template differs",
                   "context window differs", "retrieval top_k differs: A 4, B 8",
                   "retrieval mode differs: A 'hybrid', B 'dense'", "embedding model differs"):
        assert phrase in text


def test_sampling_eval_set_and_schedule() -> None:
    a, b = _stack("a"), _stack("b", generation={"temperature": 0.7})
    warnings = fairness_warnings(_manifest(a, b, evalsets={"A": "demo-en", "B": "demo-ru"},
                                           schedule="parallel"))
    text = "\n".join(warnings)
    assert "temperature differs: A 0.0, B 0.7" in text
    assert "side B samples at temperature 0.7" in text
    assert "eval set differs: A 'demo-en', B 'demo-ru'" in text
    assert "parallel schedule" in text


def test_missing_manifest_is_said() -> None:
    assert "no run manifest" in fairness_warnings(None)[0]
    assert "lacks the recipes" in fairness_warnings({"stacks": {"A": {}}})[0]
