"""The packaged all-MiniLM-L6-v2 as an ONNX model for fastembed (ONNX Runtime), made once.

Why: one query through sentence-transformers on torch takes 15-27 ms on the 2-core dev
box (English/Russian), most of it framework overhead for a 12-60 token input; the same
weights through ONNX Runtime take 6-12 ms, which is what `/search` latency is made of.

The export is the model's own weights (fp32, no quantisation: int8 moved cosines by up
to 0.3 on Russian text), traced by `torch.onnx.export`, attention fused by ONNX Runtime's
BERT optimizer, and checked against sentence-transformers before it is used (every
vector within 1e-4 cosine, padded batches included). The folder, keyed by the weights'
digest, lives in the workbench cache (`~/.cache/rag-workbench/models/`), is written to a
temporary name and renamed, under a file lock: two RAG services starting at once export
it once. The tokenizer files are copied beside it with `model_max_length` set to the
sentence-transformers `max_seq_length` (256), so fastembed truncates where
sentence-transformers does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

#: Bumped when the export procedure changes, so old exports are not reused.
EXPORT_VERSION = 1
_TOKENIZER_FILES = ("tokenizer.json", "special_tokens_map.json", "config.json")
#: Inputs the check compares: padded batches, Cyrillic (many word pieces), one long text.
_CHECK_TEXTS = [
    "Who founded Quillmoor Labs?",
    "Кто основал компанию и в каком году это произошло?",
    "a",
    "The river runs through the old city " * 40,
]


class ExportError(RuntimeError):
    """The ONNX export failed or does not reproduce the torch model."""


def _digest(model_dir: Path) -> str:
    h = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        path = model_dir / name
        if path.is_file():
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def onnx_dir(model_dir: Path, cache_dir: Path) -> Path:
    """Where the export of the model in `model_dir` lives (it may not exist yet)."""
    return cache_dir / "models" / f"minilm-onnx-{_digest(model_dir)}"


def ensure_onnx_export(model_dir: Path, cache_dir: Path) -> Path:
    """The exported folder for the sentence-transformers model in `model_dir`, made on
    first call (about 30 s here; needs torch) and reused after."""
    target = onnx_dir(model_dir, cache_dir)
    if (target / "model.onnx").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=600):
        if (target / "model.onnx").is_file():  # another process made it while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        try:
            _export(model_dir, tmp)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _export(model_dir: Path, out: Path) -> None:
    # why here: torch takes seconds to import
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    bert: Any = model[0].auto_model  # a transformers BertModel
    bert.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    # Traced on a padded batch so the attention-mask path is part of the graph.
    sample = model.tokenizer(["a padded batch of two texts", "short"], padding=True,
                             return_tensors="pt")

    class _Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    raw = out / "raw.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes; the check below decides
        torch.onnx.export(
            _Encoder(), tuple(sample[k] for k in names), str(raw), input_names=names,
            output_names=["last_hidden_state"], opset_version=17, dynamo=False,
            dynamic_axes={k: {0: "batch", 1: "sequence"} for k in [*names, "last_hidden_state"]},
        )
    # why here: ONNX Runtime takes seconds to import
    from onnxruntime.transformers import optimizer

    config = bert.config
    optimized = optimizer.optimize_model(str(raw), model_type="bert",
                                         num_heads=int(config.num_attention_heads),
                                         hidden_size=int(config.hidden_size))
    optimized.save_model_to_file(str(out / "model.onnx"))
    raw.unlink()

    for name in _TOKENIZER_FILES:
        shutil.copyfile(model_dir / name, out / name)
    tokenizer_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    tokenizer_config["model_max_length"] = int(model.max_seq_length or 256)
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))

    expected = model.encode(_CHECK_TEXTS, normalize_embeddings=True)
    got = np.asarray(list(load_fastembed(out, threads=1).embed(_CHECK_TEXTS, batch_size=4)))
    cosines = (expected * got).sum(axis=1)
    if got.shape != expected.shape or float(cosines.min()) < 0.9999:
        raise ExportError(f"ONNX export of {model_dir} does not reproduce the model "
                          f"(cosines {np.round(cosines, 5).tolist()})")
    (out / "export.json").write_text(json.dumps({
        "source": str(model_dir), "export_version": EXPORT_VERSION,
        "torch": torch.__version__, "min_cosine_vs_torch": float(cosines.min()),
    }))


def load_fastembed(folder: Path, threads: int | None = None) -> Any:
    """fastembed's `TextEmbedding` over an exported folder (mean pooling, unit length, as
    all-MiniLM-L6-v2's sentence-transformers config says)."""
    # why here: fastembed takes seconds to import
    from fastembed import TextEmbedding

    # fastembed knows this model's pooling and normalisation under its hub name; the
    # weights come from `folder`, nothing is downloaded.
    return TextEmbedding("sentence-transformers/all-MiniLM-L6-v2",
                         specific_model_path=str(folder), threads=threads)
