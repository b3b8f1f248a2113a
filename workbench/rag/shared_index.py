"""Content-addressed indexes, built once and shared by every RAG service of this machine.

Why: a run of N stacks with the same retrieval settings used to embed the same corpus N
times (HotpotQA, 5,736 chunks: 169 s for one stack, then 122 s for the next). The key of
an index is a sha256 over everything that changes its contents: the passages, the
chunking settings, and the embedder (its name, a digest of its model files, its backend
and its token limit). Two stacks whose keys match get the same files; any difference
gives a different key, hence a separate index.

Layout under `<state_dir>/indexes/`:
  <key>/          manifest.json, chunks.jsonl, vectors.npy, bm25.pkl (see `index.py`)
  <key>.lock      held while one service looks the index up or builds it

A build is written into a temporary folder beside `<key>/` and renamed into place, so a
folder named by a key is always complete; the lock makes the second service wait for
the first one's build and then read it rather than embed again. Qdrant is not shared:
its local mode allows one process per folder, so each service refills its own
collection from the shared `vectors.npy` (no embedding).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from filelock import FileLock

from workbench.rag.embedder import Embedder, EmbedderError, resolve_model_path
from workbench.records.passage import Passage
from workbench.stacks.recipe import Retrieval

#: Bumped when the on-disk layout or chunking algorithm changes (forces a rebuild).
INDEX_FORMAT = 2
#: Seconds a service waits for another one's build of the same index.
LOCK_TIMEOUT_S = 3600.0

__all__ = ["INDEX_FORMAT", "SharedIndexes", "embedder_identity", "index_key"]


@lru_cache(maxsize=8)
def _files_digest(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    # `stamp` (names, sizes, mtimes) is only the cache key: a changed file is hashed again.
    h = hashlib.sha256()
    for rel, _, _ in stamp:
        h.update(rel.encode() + b"\0")
        with (Path(folder) / rel).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def model_files_digest(path: Path) -> str:
    """sha256 over every file of a model folder (or one file), names included."""
    root = path if path.is_dir() else path.parent
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stamp = tuple((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in files)
    return _files_digest(str(root), stamp)


def embedder_identity(embedder: Embedder) -> dict[str, Any]:
    """What decides an embedder's vectors: name, model files' sha256, backend, token limit.

    `sha256` is None for a model known by a hub id only (its files are not here to hash);
    its name then stands for it, as the recipe does. `max_tokens` None means the model's
    own limit, which its files (hashed) decide.
    """
    sha256: str | None = None
    try:
        located = Path(resolve_model_path(embedder.name))
    except EmbedderError:
        located = None
    if located is not None and located.exists():
        sha256 = model_files_digest(located)
    return {"model": embedder.name, "sha256": sha256, "backend": embedder.backend,
            "max_tokens": embedder.max_tokens}


def index_key(passages: Sequence[Passage], retrieval: Retrieval,
              embedder: Mapping[str, Any]) -> str:
    """sha256 over the passages and every setting that changes the index: the key of a
    shared index and the digest a service reports. `embedder` is `embedder_identity`."""
    h = hashlib.sha256()
    settings = {
        "format": INDEX_FORMAT,
        "chunk_size": retrieval.chunk_size,
        "chunk_overlap": retrieval.chunk_overlap,
        "embedder": dict(embedder),
    }
    h.update(json.dumps(settings, sort_keys=True).encode())
    for p in passages:
        line = [p.id, p.title, p.text, p.doc_type]
        h.update(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


class SharedIndexes:
    """The folder of shared indexes, one complete sub-folder per key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, key: str) -> Path:
        """Where the index of `key` lives (it may not exist yet)."""
        return self.root / key

    def is_built(self, key: str) -> bool:
        """Whether a complete index of `key` is there (its manifest is written last)."""
        try:
            meta = json.loads((self.folder(key) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(meta, dict) and meta.get("format") == INDEX_FORMAT \
            and meta.get("digest") == key

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold `key`'s lock: other services (processes) wait until it is released."""
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.root / f"{key}.lock"), timeout=LOCK_TIMEOUT_S):
            yield

    def publish(self, key: str, write: Callable[[Path], None]) -> Path:
        """Have `write(tmp)` fill a temporary folder, then rename it to `key`'s folder.

        Call it holding `locked(key)`. An incomplete folder left by an older format or a
        crash is replaced; a crash during `write` leaves only a temporary folder behind,
        which is removed.
        """
        target = self.folder(key)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.", dir=self.root))
        try:
            write(tmp)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target
