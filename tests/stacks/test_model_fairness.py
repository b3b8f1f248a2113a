"""The fairness check compares the model digests the run manifest records."""

from __future__ import annotations

from typing import Any

from workbench.report.fairness import fairness_warnings


def _recipe(name: str, model: str) -> dict[str, Any]:
    return {"name": name, "model": {"name": model}, "generation": {}, "retrieval": {}}


def test_fairness_compares_model_digests() -> None:
    same = {"stacks": {"a": _recipe("a", "m"), "b": _recipe("b", "m")},
            "models": {"a": {"registry": "m", "sha256": "1" * 64},
                       "b": {"registry": "m", "sha256": "2" * 64}}}
    text = "\n".join(fairness_warnings(same))
    assert "a and b both serve 'm' but different weights (sha256 111111111111..." in text
    chosen = {"stacks": {"a": _recipe("a", "m"), "b": _recipe("b", "n")},
              "models": {"a": {"registry": "m", "sha256": "1" * 64},
                         "b": {"registry": "n", "sha256": "2" * 64}}}
    assert fairness_warnings(chosen) == []  # different models: that is the choice
    unproven = {"stacks": {"a": _recipe("a", "m"), "b": _recipe("b", "m")},
                "models": {"a": {"sha256": "1" * 64},
                           "b": {"sha256": None, "note": "no local model"}}}
    assert fairness_warnings(unproven) == ["b: model identity cannot be proven (no local model)"]
