"""The ONNX path of the packaged MiniLM: same vectors as sentence-transformers, made once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.rag.embedder import PACKAGED_MINILM, Embedder, resolve_model_path
from workbench.rag.onnx_export import ensure_onnx_export, onnx_dir
from workbench.settings import get_settings

TEXTS = [
    "When was the Quillmoor Labs observatory opened?",
    "Когда была открыта обсерватория и кто её построил?",
    "ok",
    "A much longer passage about rivers, bridges and the old trade routes of the coast. " * 6,
]


def test_onnx_and_torch_backends_give_the_same_vectors() -> None:
    onnx = Embedder(PACKAGED_MINILM, "onnx").encode(TEXTS, batch_size=3)  # padded batches
    torch = Embedder(PACKAGED_MINILM, "torch").encode(TEXTS, batch_size=3)
    assert onnx.shape == torch.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert float((onnx * torch).sum(axis=1).min()) > 0.9999


def test_export_is_made_once_and_reused() -> None:
    model_dir = Path(resolve_model_path(PACKAGED_MINILM))
    cache = get_settings().cache_dir
    first = ensure_onnx_export(model_dir, cache)
    stamp = (first / "model.onnx").stat().st_mtime_ns
    assert ensure_onnx_export(model_dir, cache) == first == onnx_dir(model_dir, cache)
    assert (first / "model.onnx").stat().st_mtime_ns == stamp
    record = json.loads((first / "export.json").read_text())
    assert record["min_cosine_vs_torch"] > 0.9999
    # fastembed truncates where sentence-transformers does (max_seq_length 256, not 512).
    assert json.loads((first / "tokenizer_config.json").read_text())["model_max_length"] == 256


def test_other_models_run_on_torch() -> None:
    assert Embedder("some/other-model", "onnx").backend == "torch"
    assert Embedder(PACKAGED_MINILM, "onnx").backend == "onnx"


def test_onnx_load_failure_names_the_model_and_the_way_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import workbench.rag.onnx_export as export

    def broken(model_dir: Path, cache_dir: Path) -> Path:
        raise export.ExportError("does not reproduce the model")

    monkeypatch.setattr(export, "ensure_onnx_export", broken)
    from workbench.rag.embedder import EmbedderError

    with pytest.raises(EmbedderError, match="embedding_backend: torch"):
        Embedder(PACKAGED_MINILM, "onnx").encode(["x"])
