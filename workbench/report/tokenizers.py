"""Per-token latency (TPOT, ITL, output tok/s) is comparable only between stacks that count
tokens alike: a token of one model's tokenizer is not the same amount of text as another's
(SmolLM2's and Qwen2.5's vocabularies split a Russian answer into very different counts), so
"TPOT 20% lower" may only mean "more, shorter tokens". Where a candidate serves a different
model than the baseline (by the sha256 the manifest records, else by the model's name), its
per-token comparisons are marked not comparable and decide nothing; E2E and TTFT, which do
not count tokens, still compare.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.records.manifest import ManifestLike, RunManifest
from workbench.report.fairness import _get
from workbench.report.models import Comparison

#: Latency metrics measured per token.
TOKEN_METRICS = ("tpot", "itl", "tok_s")
NOT_COMPARABLE = "not comparable: different models (tokenizers)"


def model_identities(manifest: ManifestLike) -> dict[str, tuple[str | None, str]]:
    """Stack name -> (model sha256 or None, model name as the manifest gives it)."""
    m = RunManifest.read(manifest)
    models = m.models or {}
    out: dict[str, tuple[str | None, str]] = {}
    for key, name, recipe in m.recipes():
        entry = models.get(key)
        named = (entry.registry if entry else None) or _get(recipe, "model.name")
        out[name] = ((entry.sha256 if entry else None) or None,
                     named if isinstance(named, str) else "")
    return out


def different_tokenizers(manifest: ManifestLike, baseline: str) -> set[str]:
    """The stacks whose model differs from the baseline's: both digests known and unequal,
    or (without both digests) both names known and unequal."""
    ids = model_identities(manifest)
    if baseline not in ids:
        return set()
    base_sha, base_name = ids[baseline]
    out = set()
    for stack, (sha, name) in ids.items():
        if stack == baseline:
            continue
        if (base_sha and sha and sha != base_sha) or (
                not (base_sha and sha) and base_name and name and name != base_name):
            out.add(stack)
    return out


def mark_token_metrics(comparisons: Sequence[Comparison], manifest: ManifestLike,
                       baseline: str) -> list[str]:
    """Mark the per-token comparisons of candidates with another model as not comparable
    (no "better", no "significant"); returns the report's note, if any."""
    differ = different_tokenizers(manifest, baseline)
    marked = sorted({c.candidate for c in comparisons
                     if c.candidate in differ and c.metric in TOKEN_METRICS})
    for c in comparisons:
        if c.candidate in differ and c.metric in TOKEN_METRICS:
            c.significant, c.better, c.verdict = False, None, NOT_COMPARABLE
    if not marked:
        return []
    return [f"TPOT, ITL and output tok/s are not compared between {baseline} and "
            f"{', '.join(marked)}: different models, so different tokenizers (a token is not "
            "the same amount of text); E2E and TTFT are compared"]


__all__ = ["NOT_COMPARABLE", "TOKEN_METRICS", "different_tokenizers", "mark_token_metrics",
           "model_identities"]
