"""Index building with the real packaged MiniLM, Qdrant local mode and rank-bm25."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.rag.conftest import CORPUS
from workbench.rag.embedder import PACKAGED_MINILM, get_embedder
from workbench.rag.index import IndexStore, collection_name, qdrant_client_for
from workbench.records.passage import Passage
from workbench.stacks.recipe import Retrieval

pytestmark = pytest.mark.usefixtures("embedder_loaded")

PASSAGES = [Passage.model_validate(p) for p in CORPUS]
SETTINGS = Retrieval(chunk_size=120, chunk_overlap=20)


def _store(data_dir: Path, settings: Retrieval = SETTINGS) -> IndexStore:
    return IndexStore(data_dir, settings, get_embedder(PACKAGED_MINILM))


def test_build_reuse_rebuild_and_reload(data_dir: Path) -> None:
    store = _store(data_dir)
    seen: list[tuple[int, int]] = []
    first = store.build("demo", PASSAGES, progress=lambda d, t: seen.append((d, t)))
    assert not first.reused and first.passages == 5 and first.chunks > 5
    assert seen[-1] == (first.chunks, first.chunks)
    space = store.spaces["demo"]
    assert {c.doc_id for c in space.chunks} == {p.id for p in PASSAGES}
    assert np.allclose(np.linalg.norm(space.vectors, axis=1), 1, atol=1e-4)
    # Qdrant holds every chunk, with its payload.
    name = collection_name("demo")
    assert store.qdrant.count(name, exact=True).count == first.chunks
    point = store.qdrant.retrieve(name, [0], with_payload=True)[0]
    assert point.payload is not None and point.payload["space_id"] == "demo"

    again = store.build("demo", PASSAGES)
    assert again.reused and again.digest == first.digest

    changed = [*PASSAGES[:-1], PASSAGES[-1].model_copy(update={"text": "Changed text."})]
    rebuilt = store.build("demo", changed)
    assert not rebuilt.reused and rebuilt.digest != first.digest
    store.close()

    # A new process finds the index on disk and reuses it.
    reopened = _store(data_dir)
    reopened.load_all()
    assert reopened.spaces["demo"].digest == rebuilt.digest
    assert reopened.build("demo", changed).reused
    reopened.close()

    # Other chunking settings change the digest: rebuilt, not reused.
    other = _store(data_dir, Retrieval(chunk_size=300, chunk_overlap=20))
    other.load_all()
    assert not other.build("demo", changed).reused
    other.close()


def test_in_memory_qdrant_is_refilled_from_disk(data_dir: Path) -> None:
    store = IndexStore(
        data_dir, SETTINGS, get_embedder(PACKAGED_MINILM), qdrant_client_for(data_dir, ":memory:")
    )
    built = store.build("s1", PASSAGES)
    store.close()
    fresh = IndexStore(
        data_dir, SETTINGS, get_embedder(PACKAGED_MINILM), qdrant_client_for(data_dir, ":memory:")
    )
    fresh.load_all()
    assert fresh.qdrant.count(collection_name("s1"), exact=True).count == built.chunks
    fresh.close()


def test_embedding_model_mismatch_is_not_loaded(data_dir: Path) -> None:
    store = _store(data_dir)
    store.build("s1", PASSAGES)
    store.close()
    other = IndexStore(
        data_dir, Retrieval(embedding_model="some/other-model"), get_embedder(PACKAGED_MINILM)
    )
    other.load_all()
    assert other.spaces == {}
    other.close()
