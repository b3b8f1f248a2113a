"""Shared, content-addressed indexes: one build per key, read by every other store
(real packaged MiniLM, Qdrant local mode, rank-bm25; one store per service folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.rag.conftest import CORPUS
from workbench.rag.embedder import PACKAGED_MINILM, get_embedder
from workbench.rag.index import IndexStore, collection_name
from workbench.rag.shared_index import SharedIndexes, embedder_identity, index_key
from workbench.records.passage import Passage
from workbench.stacks.recipe import Retrieval

pytestmark = pytest.mark.usefixtures("embedder_loaded")

PASSAGES = [Passage.model_validate(p) for p in CORPUS]
SETTINGS = Retrieval(chunk_size=120, chunk_overlap=20)


def _store(tmp_path: Path, name: str, settings: Retrieval = SETTINGS) -> IndexStore:
    """The store of one service: its own folder (and Qdrant), the common shared folder."""
    return IndexStore(tmp_path / name, settings, get_embedder(PACKAGED_MINILM),
                      shared_dir=tmp_path / "indexes")


def test_second_store_reads_the_first_ones_build(tmp_path: Path) -> None:
    a = _store(tmp_path, "a")
    built = a.build("demo", PASSAGES)
    assert not built.reused and built.shared
    assert (tmp_path / "indexes" / built.digest / "vectors.npy").is_file()

    b = _store(tmp_path, "b")
    embedded: list[int] = []
    reused = b.build("demo", PASSAGES, progress=lambda done, total: embedded.append(done))
    assert reused.reused and reused.shared and reused.digest == built.digest
    assert embedded == []  # nothing was embedded a second time
    # b's own Qdrant holds every chunk, and b searches exactly as a does.
    assert b.qdrant.count(collection_name("demo"), exact=True).count == built.chunks
    np.testing.assert_array_equal(a.spaces["demo"].vectors, b.spaces["demo"].vectors)
    query = get_embedder(PACKAGED_MINILM).encode_query("How deep is Baikal?")
    assert a.spaces["demo"].dense.search(query, 3) == b.spaces["demo"].dense.search(query, 3)
    a.close()
    b.close()

    # A restarted service finds its space through the pointer to the shared index.
    again = _store(tmp_path, "b")
    again.load_all()
    assert again.spaces["demo"].digest == built.digest
    assert again.build("demo", PASSAGES).reused
    again.close()
    assert [p.name for p in (tmp_path / "indexes").iterdir() if p.is_dir()] == [built.digest]


def test_different_settings_get_their_own_index(tmp_path: Path) -> None:
    a = _store(tmp_path, "a")
    c = _store(tmp_path, "c", Retrieval(chunk_size=300, chunk_overlap=20))
    first, other = a.build("demo", PASSAGES), c.build("demo", PASSAGES)
    assert not other.reused and other.digest != first.digest
    assert len(c.spaces["demo"].chunks) < len(a.spaces["demo"].chunks)
    a.close()
    c.close()
    folders = sorted(p.name for p in (tmp_path / "indexes").iterdir() if p.is_dir())
    assert folders == sorted([first.digest, other.digest])


def test_key_covers_the_embedder() -> None:
    onnx = embedder_identity(get_embedder(PACKAGED_MINILM, "onnx"))
    torch = embedder_identity(get_embedder(PACKAGED_MINILM, "torch"))
    assert onnx["sha256"] and onnx["sha256"] == torch["sha256"]  # the same model files
    assert index_key(PASSAGES, SETTINGS, onnx) != index_key(PASSAGES, SETTINGS, torch)
    assert index_key(PASSAGES, SETTINGS, onnx) != index_key(
        PASSAGES, SETTINGS, {**onnx, "max_tokens": 128})
    assert index_key(PASSAGES, SETTINGS, onnx) != index_key(
        PASSAGES, SETTINGS, {**onnx, "sha256": "0" * 64})
    assert index_key(PASSAGES, SETTINGS, onnx) == index_key(list(PASSAGES), SETTINGS, dict(onnx))


def test_a_failed_build_publishes_nothing(tmp_path: Path) -> None:
    shared = SharedIndexes(tmp_path / "indexes")

    def crash(folder: Path) -> None:
        (folder / "chunks.jsonl").write_text("half")
        raise OSError("disk full")

    with shared.locked("k"), pytest.raises(OSError, match="disk full"):
        shared.publish("k", crash)
    assert not shared.folder("k").exists() and not shared.is_built("k")
    assert [p.name for p in (tmp_path / "indexes").iterdir()] == ["k.lock"]
