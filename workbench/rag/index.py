"""Per-space indexes: chunks, dense vectors (in Qdrant) and BM25.

Layout under the service's data dir (`<state_dir>/stacks/<stack>/index/`):
  qdrant/                      Qdrant local-mode folder, one collection per space
                               (a Qdrant server instead when QDRANT_URL is set)
  spaces/<space_id>/manifest.json   digest, counts and settings; written last, so a
                                    crashed build leaves no valid manifest
  spaces/<space_id>/chunks.jsonl    chunk texts and ids, in vector order
  spaces/<space_id>/vectors.npy     the dense vectors: refill a wiped Qdrant, feed MMR
  spaces/<space_id>/bm25.pkl        the BM25 index

Qdrant holds vectors and payloads and answers every dense query (`workbench.rag.dense`).
The numpy copy in `Space.vectors` never ranks chunks against a query: it refills an
in-memory or wiped Qdrant without re-embedding, and gives MMR its chunk-to-chunk
similarities. An index is reused when the digest over passages + chunking + embedding
model is unchanged, and rebuilt otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient

from workbench.rag.bm25 import BM25Index
from workbench.rag.chunking import Chunk, chunk_passage
from workbench.rag.dense import QdrantDense, collection_name, qdrant_client_for
from workbench.rag.embedder import Embedder, Vectors
from workbench.rag.schemas import Passage
from workbench.stacks.recipe import Retrieval

log = logging.getLogger(__name__)

#: Bumped when the on-disk layout or chunking algorithm changes (forces a rebuild).
INDEX_FORMAT = 1

__all__ = ["BuildResult", "IndexStore", "Space", "collection_name", "corpus_digest",
           "qdrant_client_for"]

#: Called as `progress(done, total)` while chunks are embedded.
Progress = Callable[[int, int], None]


@dataclass
class Space:
    """One indexed corpus, ready to search."""

    space_id: str
    digest: str
    chunks: list[Chunk]
    vectors: Vectors
    bm25: BM25Index
    passages: int
    dense: QdrantDense
    doc_types: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.doc_types = [c.doc_type for c in self.chunks]


@dataclass(frozen=True)
class BuildResult:
    """What `IndexStore.build` did."""

    space_id: str
    passages: int
    chunks: int
    reused: bool
    digest: str
    seconds: float


def corpus_digest(passages: Sequence[Passage], retrieval: Retrieval) -> str:
    """sha256 over the passages and every setting that changes the index."""
    h = hashlib.sha256()
    settings = {
        "format": INDEX_FORMAT,
        "chunk_size": retrieval.chunk_size,
        "chunk_overlap": retrieval.chunk_overlap,
        "embedding_model": retrieval.embedding_model,
    }
    h.update(json.dumps(settings, sort_keys=True).encode())
    for p in passages:
        line = [p.id, p.title, p.text, p.doc_type]
        h.update(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


class IndexStore:
    """Every space of one RAG service, on disk and in memory."""

    def __init__(
        self,
        data_dir: Path,
        retrieval: Retrieval,
        embedder: Embedder,
        qdrant: QdrantClient | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.retrieval = retrieval
        self.embedder = embedder
        self.qdrant = qdrant if qdrant is not None else qdrant_client_for(data_dir)
        self.spaces: dict[str, Space] = {}
        self._build_lock = threading.Lock()

    def _space_dir(self, space_id: str) -> Path:
        return self.data_dir / "spaces" / space_id

    def load_all(self) -> None:
        """Load every space whose manifest matches this service's embedding model."""
        root = self.data_dir / "spaces"
        if not root.is_dir():
            return
        for manifest in sorted(root.glob("*/manifest.json")):
            try:
                self._load(manifest)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.warning("skipping index %s: %s", manifest.parent, exc)

    def _load(self, manifest_path: Path) -> None:
        meta = json.loads(manifest_path.read_text(encoding="utf-8"))
        if meta.get("format") != INDEX_FORMAT:
            raise ValueError(f"index format {meta.get('format')} != {INDEX_FORMAT}")
        if meta["embedding_model"] != self.retrieval.embedding_model:
            raise ValueError(
                f"built with {meta['embedding_model']}, recipe uses "
                f"{self.retrieval.embedding_model}; re-index"
            )
        folder = manifest_path.parent
        with (folder / "chunks.jsonl").open(encoding="utf-8") as f:
            chunks = [Chunk(**json.loads(line)) for line in f]
        vectors = np.load(folder / "vectors.npy")
        if len(chunks) != meta["chunks"] or vectors.shape[0] != len(chunks):
            raise ValueError("chunk and vector counts disagree with the manifest")
        space = Space(
            space_id=meta["space_id"],
            digest=meta["digest"],
            chunks=chunks,
            vectors=np.ascontiguousarray(vectors, dtype=np.float32),
            bm25=BM25Index.load(folder / "bm25.pkl"),
            passages=meta["passages"],
            dense=self._dense(meta["space_id"]),
        )
        self._ensure_qdrant(space)
        self.spaces[space.space_id] = space
        log.info("loaded space %s: %d chunks", space.space_id, len(chunks))

    def _ensure_qdrant(self, space: Space) -> None:
        # An in-memory or wiped Qdrant lost the collection (or holds one from before the
        # DOT distance): refill it from our vector copy rather than re-embedding the corpus.
        if not space.dense.holds(len(space.chunks), int(space.vectors.shape[1])):
            self._write_qdrant(space)

    def _dense(self, space_id: str) -> QdrantDense:
        return QdrantDense(self.qdrant, collection_name(space_id))

    def build(
        self, space_id: str, passages: Sequence[Passage], progress: Progress | None = None
    ) -> BuildResult:
        """Index `passages` into `space_id`, or reuse the index when nothing changed."""
        started = time.perf_counter()
        digest = corpus_digest(passages, self.retrieval)
        with self._build_lock:
            current = self.spaces.get(space_id)
            if current is not None and current.digest == digest:
                return BuildResult(
                    space_id,
                    current.passages,
                    len(current.chunks),
                    True,
                    digest,
                    time.perf_counter() - started,
                )
            # Loading the model (seconds, once per process) is not indexing time.
            self.embedder.load()
            started = time.perf_counter()
            chunks = self._chunk(passages)
            log.info(
                "indexing space %s: %d passages -> %d chunks", space_id, len(passages), len(chunks)
            )
            vectors = self.embedder.encode(
                [c.text for c in chunks],
                progress=_logging_progress(space_id, len(chunks), progress),
            )
            space = Space(
                space_id,
                digest,
                chunks,
                vectors,
                BM25Index([c.text for c in chunks]),
                len(passages),
                self._dense(space_id),
            )
            self._write_qdrant(space)
            self._write_files(space)
            self.spaces[space_id] = space
        seconds = time.perf_counter() - started
        log.info("indexed space %s in %.1f s", space_id, seconds)
        return BuildResult(space_id, len(passages), len(chunks), False, digest, seconds)

    def _chunk(self, passages: Sequence[Passage]) -> list[Chunk]:
        r = self.retrieval
        out: list[Chunk] = []
        for p in passages:
            out.extend(
                chunk_passage(p.id, p.text, r.chunk_size, r.chunk_overlap, p.title, p.doc_type)
            )
        if not out:
            raise ValueError("passages: every passage is blank")
        return out

    def _write_qdrant(self, space: Space) -> None:
        space.dense.write(space.vectors,
                          [{"space_id": space.space_id, **asdict(c)} for c in space.chunks])

    def _write_files(self, space: Space) -> None:
        folder = self._space_dir(space.space_id)
        folder.mkdir(parents=True, exist_ok=True)
        manifest = folder / "manifest.json"
        manifest.unlink(missing_ok=True)  # invalid until every file below is written
        with (folder / "chunks.jsonl").open("w", encoding="utf-8") as f:
            for c in space.chunks:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        np.save(folder / "vectors.npy", space.vectors)
        space.bm25.save(folder / "bm25.pkl")
        meta = {
            "format": INDEX_FORMAT,
            "space_id": space.space_id,
            "digest": space.digest,
            "passages": space.passages,
            "chunks": len(space.chunks),
            "dimension": int(space.vectors.shape[1]),
            "embedding_model": self.retrieval.embedding_model,
            "chunk_size": self.retrieval.chunk_size,
            "chunk_overlap": self.retrieval.chunk_overlap,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        tmp.replace(manifest)

    def close(self) -> None:
        """Release the Qdrant folder lock (local mode allows one process per folder)."""
        self.qdrant.close()


def _logging_progress(
    space_id: str, total: int, progress: Progress | None
) -> Callable[[int], None]:
    done = 0
    next_log = max(total // 10, 1)

    def step(n: int) -> None:
        nonlocal done, next_log
        done += n
        if progress is not None:
            progress(done, total)
        if done >= next_log or done == total:
            log.info("space %s: embedded %d/%d chunks", space_id, done, total)
            next_log = done + max(total // 10, 1)

    return step
