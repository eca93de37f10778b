"""The built-in exact in-memory vector store."""

from __future__ import annotations

import numpy as np
import pytest

from sbert_plugins import EmbeddingContractError, InMemoryStore, InputError


def test_add_and_search_exact(tiny_encoder):
    store = InMemoryStore(tiny_encoder)
    ids = store.add(["the man plays guitar", "red car", "the cat is happy"], metadata=[{"k": 1}, {}, {}])
    assert ids == ["0", "1", "2"] and len(store) == 3
    hits = store.search("red car", k=2)
    assert hits[0].id == "1" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].source["text"] == "red car" and len(hits) == 2
    assert store.search("the man plays guitar", k=1)[0].source == {"text": "the man plays guitar", "k": 1}


def test_store_errors(tiny_encoder):
    store = InMemoryStore(tiny_encoder)
    assert store.search("anything") == []
    store.add(["a dog"], ids=["x"])
    with pytest.raises(InputError, match="ids already stored: \\['x'\\]"):
        store.add(["a cat"], ids=["x"])
    with pytest.raises(InputError, match="same length"):
        store.add(["a", "b"], ids=["1"])
    with pytest.raises(EmbeddingContractError, match="do not fit this store"):
        store.add_vectors(["y"], np.zeros((1, 8), dtype=np.float32), [{}])


def test_memory_store_via_plugin_hook(tiny_encoder):
    from sbert_plugins import get_plugin_manager

    plugin, factory = get_plugin_manager().contributions("sbert_vector_stores")["memory"]
    store = factory(tiny_encoder)
    assert plugin == "builtin"
    store.add(["a dog"])
    assert store.search("a dog", k=1)[0].id == "0"
