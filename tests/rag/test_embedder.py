"""The one embedder class: truncation on both backends, the text -> vector cache, the
registry; all with the real packaged MiniLM."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.rag.embedder import PACKAGED_MINILM, Embedder, VectorCache, get_embedder

pytestmark = pytest.mark.usefixtures("embedder_loaded")

LONG = "Bridges, rivers and the old trade routes of the northern coast, one by one. " * 25


def test_truncation_is_the_same_on_onnx_and_torch() -> None:
    onnx = Embedder(PACKAGED_MINILM, "onnx", max_tokens=64).encode([LONG, "short"])
    torch = Embedder(PACKAGED_MINILM, "torch", max_tokens=64).encode([LONG, "short"])
    assert float((onnx * torch).sum(axis=1).min()) > 0.9999
    untruncated = Embedder(PACKAGED_MINILM, "onnx").encode([LONG])[0]
    assert float(untruncated @ onnx[0]) < 0.9999  # 64 tokens really cut it
    # The setting never raises a model's own limit (256 position embeddings are used).
    assert Embedder(PACKAGED_MINILM, "torch", max_tokens=10_000).model().max_seq_length == 256
    with pytest.raises(ValueError, match="max_tokens"):
        Embedder(PACKAGED_MINILM, max_tokens=0)


def test_cache_embeds_each_text_once_and_is_bounded() -> None:
    embedder = Embedder(PACKAGED_MINILM, "onnx", cache_size=3)
    calls: list[int] = []
    first = embedder.encode(["a", "b", "a"], progress=calls.append)
    assert calls == [2] and np.array_equal(first[0], first[2])
    embedder.encode(["b", "a"], progress=calls.append)
    assert calls == [2]  # both cached
    embedder.encode(["c", "d"])  # "b" is now the least recently used: dropped
    assert len(embedder._cache) == 3
    assert set(embedder.export()[0]) == {"a", "c", "d"}


def test_no_cache_by_default_so_service_timings_stay_real() -> None:
    embedder = get_embedder(PACKAGED_MINILM)
    embedder.encode(["never kept"])
    assert len(embedder._cache) == 0 and embedder.export()[0] == []


def test_cache_is_safe_across_threads() -> None:
    embedder = Embedder(PACKAGED_MINILM, "onnx", cache_size=1000)
    texts = [f"text number {i}" for i in range(40)]
    expected = Embedder(PACKAGED_MINILM, "onnx").encode(texts)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            order = texts[offset:] + texts[:offset]
            results.append(np.roll(embedder.encode(order), offset, axis=0))
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 7,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got in results:
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert len(embedder._cache) == len(texts)


def test_registry_keeps_settings_apart() -> None:
    assert get_embedder(PACKAGED_MINILM) is get_embedder(PACKAGED_MINILM, "onnx")
    scoring = get_embedder(PACKAGED_MINILM, "torch", max_tokens=128, cache_size=10)
    assert scoring is not get_embedder(PACKAGED_MINILM, "torch")
    assert scoring.max_tokens == 128 and scoring.model_name == PACKAGED_MINILM


def test_vector_cache_put_requires_matching_rows() -> None:
    cache = VectorCache(2)
    with pytest.raises(ValueError):
        cache.put(["a", "b"], np.zeros((1, 3), dtype=np.float32))
    VectorCache(0).put(["a"], np.zeros((1, 3), dtype=np.float32))


class _Recording:
    """Wraps the loaded fastembed model and records the batches it is given."""

    def __init__(self, model: object) -> None:
        self.model = model.model  # type: ignore[attr-defined]  # the tokenizer lives here
        self._inner = model
        self.batches: list[list[str]] = []

    def embed(self, batch: list[str], batch_size: int) -> object:
        self.batches.append(list(batch))
        return self._inner.embed(batch, batch_size=batch_size)  # type: ignore[attr-defined]


def test_batches_are_sorted_by_length_and_rows_come_back_in_order() -> None:
    texts = ["short", LONG, "a medium sized sentence about rivers and bridges", "Кто?",
             "Самое глубокое озеро на планете находится в Сибири", "x", LONG[:300]]
    one_by_one = np.vstack([Embedder(PACKAGED_MINILM, "onnx").encode([t]) for t in texts])
    embedder = Embedder(PACKAGED_MINILM, "onnx", batch_size=2)
    embedder.load()
    recording = _Recording(embedder._onnx)
    embedder._onnx = recording
    got = embedder.encode(texts)
    np.testing.assert_allclose(got, one_by_one, atol=1e-5)  # the caller's order
    lengths = dict(zip(texts, embedder._lengths(texts), strict=True))
    seen = [lengths[t] for batch in recording.batches for t in batch]
    assert seen == sorted(seen, reverse=True)  # longest first, so each batch pads little
    assert [len(b) for b in recording.batches] == [2, 2, 2, 1]
