"""Per-space indexes: chunks, dense vectors (in Qdrant) and BM25.

Layout under the service's data dir (`<state_dir>/stacks/<stack>/index/`):
  qdrant/                      Qdrant local-mode folder, one collection per space
                               (a Qdrant server instead when QDRANT_URL is set; in
                               memory when the files are shared, refilled at start)
  spaces/<space_id>/manifest.json   digest, counts and settings; written last, so a
                                    crashed build leaves no valid manifest. With a
                                    shared index store it only names the shared index
                                    (`shared`), and the files below live there instead
  spaces/<space_id>/chunks.jsonl    chunk texts and ids, in vector order
  spaces/<space_id>/vectors.npy     the dense vectors: refill a wiped Qdrant, feed MMR
  spaces/<space_id>/bm25.pkl        the BM25 index

Qdrant holds vectors and payloads and answers every dense query (`workbench.rag.dense`).
The numpy copy in `Space.vectors` never ranks chunks against a query: it refills an
in-memory or wiped Qdrant without re-embedding, and gives MMR its chunk-to-chunk
similarities. An index is reused when its key (`shared_index.index_key`: passages +
chunking + embedder) is unchanged, and rebuilt otherwise; with a shared store
(`shared_index.SharedIndexes`) an index another service built under the same key is read
from there instead of being embedded again.
"""

from __future__ import annotations

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
from workbench.rag.shared_index import INDEX_FORMAT, SharedIndexes, embedder_identity, index_key
from workbench.records.passage import Passage
from workbench.stacks.recipe import Retrieval

log = logging.getLogger(__name__)

__all__ = ["BuildResult", "IndexStore", "Space", "collection_name", "index_key",
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
    #: Nothing was embedded: the space was already loaded, or read from the shared store.
    reused: bool
    #: The index key (`index_key`), also the shared index's folder name.
    digest: str
    seconds: float
    #: The index lives in the shared store (built here or by another service).
    shared: bool = False


class IndexStore:
    """Every space of one RAG service, on disk and in memory."""

    def __init__(
        self,
        data_dir: Path,
        retrieval: Retrieval,
        embedder: Embedder,
        qdrant: QdrantClient | None = None,
        shared_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.retrieval = retrieval
        self.embedder = embedder
        self.qdrant = qdrant if qdrant is not None else qdrant_client_for(data_dir)
        #: Indexes shared with the other services of this machine (None: own files only).
        self.shared = SharedIndexes(shared_dir) if shared_dir is not None else None
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
        # A space of the shared store: the files are in its folder, named by the key.
        folder = Path(meta["shared"]) if meta.get("shared") else manifest_path.parent
        space = self._read(folder, meta["space_id"], meta["digest"])
        self._ensure_qdrant(space)
        self.spaces[space.space_id] = space
        log.info("loaded space %s: %d chunks", space.space_id, len(space.chunks))

    def _read(self, folder: Path, space_id: str, digest: str) -> Space:
        meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if meta.get("format") != INDEX_FORMAT or meta["digest"] != digest:
            raise ValueError(f"{folder}: not the index {digest[:12]} (rebuilt or replaced)")
        if meta["embedding_model"] != self.retrieval.embedding_model:
            raise ValueError(
                f"built with {meta['embedding_model']}, recipe uses "
                f"{self.retrieval.embedding_model}; re-index"
            )
        with (folder / "chunks.jsonl").open(encoding="utf-8") as f:
            chunks = [Chunk(**json.loads(line)) for line in f]
        vectors = np.load(folder / "vectors.npy")
        if len(chunks) != meta["chunks"] or vectors.shape[0] != len(chunks):
            raise ValueError("chunk and vector counts disagree with the manifest")
        return Space(
            space_id=space_id,
            digest=digest,
            chunks=chunks,
            vectors=np.ascontiguousarray(vectors, dtype=np.float32),
            bm25=BM25Index.load(folder / "bm25.pkl"),
            passages=meta["passages"],
            dense=self._dense(space_id),
        )

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
        """Index `passages` into `space_id`, or reuse the index when nothing changed: the
        space already loaded, else (with a shared store) the shared index of the same key."""
        started = time.perf_counter()
        digest = index_key(passages, self.retrieval, embedder_identity(self.embedder))
        shared = self.shared is not None
        with self._build_lock:
            current = self.spaces.get(space_id)
            if current is not None and current.digest == digest:
                return BuildResult(space_id, current.passages, len(current.chunks), True,
                                   digest, time.perf_counter() - started, shared)
            if self.shared is None:
                space, load_s = self._embed(space_id, digest, passages, progress)
                self._write_qdrant(space)
                self._write_files(self._space_dir(space_id), space)
                reused = False
            else:
                # Held across the build: a second service with the same key waits here,
                # then reads what the first one built instead of embedding it again.
                with self.shared.locked(digest):
                    reused = self.shared.is_built(digest)
                    if reused:
                        space = self._read(self.shared.folder(digest), space_id, digest)
                        load_s = 0.0
                    else:
                        space, load_s = self._embed(space_id, digest, passages, progress)
                        built = space
                        self.shared.publish(digest, lambda tmp: self._write_files(tmp, built))
                # Our own Qdrant (one process per folder): filled outside the lock, so the
                # next service need not wait for it.
                self._write_qdrant(space)
                self._write_pointer(space, self.shared.folder(digest))
            self.spaces[space_id] = space
        # Loading the model (seconds, once per process) is not indexing time.
        started += load_s
        seconds = time.perf_counter() - started
        log.info("%s space %s in %.1f s (index %s)",
                 "loaded shared" if reused else "indexed", space_id, seconds, digest[:12])
        return BuildResult(space_id, len(passages), len(space.chunks), reused, digest,
                           seconds, shared)

    def _embed(self, space_id: str, digest: str, passages: Sequence[Passage],
               progress: Progress | None) -> tuple[Space, float]:
        """The space embedded here, and the seconds spent loading the model first."""
        t = time.perf_counter()
        self.embedder.load()
        load_s = time.perf_counter() - t
        chunks = self._chunk(passages)
        log.info(
            "indexing space %s: %d passages -> %d chunks", space_id, len(passages), len(chunks)
        )
        vectors = self.embedder.encode(
            [c.text for c in chunks],
            progress=_logging_progress(space_id, len(chunks), progress),
        )
        return Space(space_id, digest, chunks, vectors, BM25Index([c.text for c in chunks]),
                     len(passages), self._dense(space_id)), load_s

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

    def _write_files(self, folder: Path, space: Space) -> None:
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
            "embedder": embedder_identity(self.embedder),
            "chunk_size": self.retrieval.chunk_size,
            "chunk_overlap": self.retrieval.chunk_overlap,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _write_json(manifest, meta)

    def _write_pointer(self, space: Space, shared_folder: Path) -> None:
        # This service's record of which shared index its space holds, so a restart
        # loads it again (and refills Qdrant from it when Qdrant lost the collection).
        folder = self._space_dir(space.space_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("chunks.jsonl", "vectors.npy", "bm25.pkl"):  # a private build's copies
            (folder / name).unlink(missing_ok=True)
        _write_json(folder / "manifest.json", {
            "format": INDEX_FORMAT, "space_id": space.space_id, "digest": space.digest,
            "shared": str(shared_folder),
        })

    def close(self) -> None:
        """Release the Qdrant folder lock (local mode allows one process per folder)."""
        self.qdrant.close()


def _write_json(path: Path, data: dict[str, object]) -> None:
    # Renamed into place: a reader sees the old manifest or the new one, never half of one.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


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
