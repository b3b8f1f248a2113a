"""TPOT, ITL and tok/s are not compared between stacks whose models (so tokenizers) differ."""

from __future__ import annotations

from typing import Any

from tests.report.synthetic import question, record
from workbench.report import build_scorecard
from workbench.report.tokenizers import NOT_COMPARABLE, different_tokenizers
from workbench.stacks.recipe import Ports, Stack


def _manifest(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    stacks = {name: Stack(name=name, engine="llamacpp",
                          model={"name": str(m.get("name", "smollm2"))},  # type: ignore[arg-type]
                          ports=Ports(rag=8000 + i, engine=8080 + i)).model_dump(mode="json")
              for i, (name, m) in enumerate(models.items())}
    return {"stacks": stacks, "baseline": "stack-a",
            "models": {name: {k: v for k, v in m.items() if k != "name"}
                       for name, m in models.items()}}


def _card(manifest: dict[str, Any]) -> Any:
    questions = [question(f"q{i}", ["x"]) for i in range(40)]
    # B streams twice as fast per token and finishes sooner: TPOT and E2E both favour it.
    records = [record(q.id, "A", "x", itl=0.04, start=100.0 + i) for i, q in enumerate(questions)]
    records += [record(q.id, "B", "x", itl=0.02, start=300.0 + i)
                for i, q in enumerate(questions)]
    return build_scorecard(questions, records, semantic=False, resamples=300, manifest=manifest)


def test_different_models_make_per_token_latency_not_comparable() -> None:
    manifest = _manifest({"stack-a": {"sha256": "a" * 64, "name": "smollm2"},
                          "stack-b": {"sha256": "b" * 64, "name": "qwen2.5-0.5b"}})
    assert different_tokenizers(manifest, "stack-a") == {"stack-b"}
    card = _card(manifest)
    per_token = [c for c in card.comparisons if c.metric in ("tpot", "itl", "tok_s")]
    assert per_token and all(c.verdict == NOT_COMPARABLE and c.better is None
                             and not c.significant for c in per_token)
    e2e = card.comparison("e2e.ratio")
    assert e2e.better == "stack-b"  # E2E does not count tokens: still compared
    assert any("TPOT, ITL and output tok/s are not compared between stack-a and stack-b"
               in n for n in card.notes)


def test_the_same_model_compares_per_token_latency() -> None:
    same = _manifest({"stack-a": {"sha256": "a" * 64}, "stack-b": {"sha256": "a" * 64}})
    assert different_tokenizers(same, "stack-a") == set()
    tpot = [c for c in _card(same).comparisons if c.metric == "tpot"]
    assert tpot and tpot[0].better == "stack-b"
    # Without digests, names decide; without a manifest nothing is marked.
    named = _manifest({"stack-a": {"name": "smollm2"}, "stack-b": {"name": "qwen"}})
    assert different_tokenizers(named, "stack-a") == {"stack-b"}
    assert different_tokenizers(None, "stack-a") == set()
