"""Shared state made explicit (architecture issue): the shared-encoder and embedding caches have public
knobs, training never changes an encoder another host holds, no global logger flipping, no data search."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

import sbert_plugins
from sbert_plugins import (
    ConfigError,
    EmbeddingCache,
    InMemoryStore,
    VectorStore,
    shared_encoder,
    shared_encoders,
)
from sbert_plugins.testing import FakeEncoder


def test_shared_encoders_have_size_and_clear_knobs(tiny_model_dir):
    shared_encoders.clear()
    first = shared_encoder(tiny_model_dir, device="cpu")
    assert first.shared and shared_encoder(tiny_model_dir, device="cpu") is first
    old, shared_encoders.max_size = shared_encoders.max_size, 1
    try:
        other = shared_encoder(tiny_model_dir, device="cpu", pooling="max")
        assert len(shared_encoders) == 1 and other is not first
        assert shared_encoder(tiny_model_dir, device="cpu") is not first  # evicted, loaded again
    finally:
        shared_encoders.max_size = old
        shared_encoders.clear()
    assert len(shared_encoders) == 0


def test_training_refuses_a_shared_encoder_and_trains_a_copy(tiny_model_dir):
    from sbert_plugins.training import CosineSimilarityLoss, InputExample, TrainConfig, fit

    shared = shared_encoder(tiny_model_dir, device="cpu")
    before = shared.encode(["a dog"])
    pairs = [InputExample(("a dog", "the dog"), 1.0), InputExample(("red car", "a cat"), 0.0)] * 4
    with pytest.raises(ConfigError, match=r"comes from shared_encoder\(\).*fit\(encoder.copy\(\)"):
        fit(shared, pairs, CosineSimilarityLoss())
    private = shared.copy()
    assert not private.shared
    fit(private, pairs, CosineSimilarityLoss(), TrainConfig(batch_size=2, lr=1e-2))
    np.testing.assert_array_equal(shared.encode(["a dog"]), before)  # the other hosts' vectors did not move
    assert not np.allclose(private.encode(["a dog"]), before)


def test_embedding_cache_copies_rows_keys_by_digest_and_bounds_bytes():
    cache = EmbeddingCache(max_bytes=20_000)
    batch = np.ones((100, 32), dtype=np.float32)
    texts = [f"text number {i} " * 50 for i in range(100)]  # long texts: keys must not hold them
    cache.encode("model", texts, lambda missing: batch[: len(missing)])
    stats = cache.stats()
    assert stats.misses == 100 and stats.bytes <= 20_000 and 0 < stats.entries < 100
    row = next(iter(cache._data.values()))
    assert row.base is None  # a copy, not a view pinning the whole batch
    assert all(isinstance(key[1], bytes) and len(key[1]) == 20 for key in cache._data)
    cache.encode("model", texts[-5:], lambda missing: pytest.fail("cached rows were re-encoded"))
    assert cache.stats().hits == 5


def test_cache_memory_is_what_it_reports():
    """The issue's case: 1,000 entries of long texts held 223 MB (views pinning batches, full-text keys)."""
    import gc
    import tracemalloc

    cache = EmbeddingCache()
    texts = [f"document {i} " + "word " * 2000 for i in range(1000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for start in range(0, 1000, 100):
        cache.encode("m", texts[start : start + 100], lambda missing: np.ones((len(missing), 384), np.float32) * 0.5)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert held < 1.3 * cache.stats().bytes < 2.5e6, (held, cache.stats())


def test_public_embedding_cache_is_the_one_sklearn_uses():
    assert isinstance(sbert_plugins.embedding_cache, EmbeddingCache)
    assert sbert_plugins.embedding_cache.max_bytes == 256 * 2**20


@pytest.mark.filterwarnings("ignore::sbert_plugins.LongTextWarning")
def test_concurrent_encodes_leave_the_tokenizer_logger_alone(tiny_encoder):
    logger = logging.getLogger("transformers.tokenization_utils_base")
    logger.setLevel(logging.INFO)
    long_text = "the dog runs " * 40
    results = []

    def work():
        results.append(tiny_encoder.encode([long_text, "a dog"] * 5))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert logger.level == logging.INFO and len(results) == 4
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


def test_data_is_never_searched_for(monkeypatch, tmp_path):
    monkeypatch.delenv("SBERT_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"pass data_dir=.*set SBERT_DATA_DIR"):
        sbert_plugins.load_sts("stsb")
    with pytest.raises(ConfigError, match="does not exist"):
        sbert_plugins.load_sts("stsb", data_dir=tmp_path / "nope")


def test_both_stores_and_the_fake_encoder_satisfy_the_protocols(tiny_encoder):
    assert isinstance(tiny_encoder, sbert_plugins.Encoder) and isinstance(FakeEncoder(), sbert_plugins.Encoder)
    assert isinstance(InMemoryStore(FakeEncoder()), VectorStore)
    pytest.importorskip("elasticsearch")
    from sbert_plugins.elasticsearch import ElasticsearchStore

    protocol = {n for n in dir(VectorStore) if not n.startswith("_")}
    assert protocol <= set(dir(ElasticsearchStore)) and protocol <= set(dir(InMemoryStore))
