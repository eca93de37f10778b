"""Approximate pair mining (faiss HNSW): exact scores for what it returns, recall against the exact answer."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("faiss", reason="the ann extra (faiss-cpu) is not installed")
from support import brute_force_pairs

from sbert_plugins import ConfigError, MissingExtraError, approximate_similar_pairs, most_similar_pairs


def _clustered(n_clusters=150, size=8, dims=32, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dims))
    x = np.repeat(centres, size, axis=0) + rng.normal(scale=0.3, size=(n_clusters * size, dims))
    return x[rng.permutation(len(x))].astype(np.float32)


def test_returned_pairs_are_exact_and_recall_is_high_on_clustered_vectors():
    x = _clustered()
    exact = most_similar_pairs(x, top_k=2000, matmul="float32")
    got = approximate_similar_pairs(x, top_k=2000, neighbors=16)
    assert len(got) == 2000 and len({(i, j) for _, i, j in got}) == 2000 and all(i < j for _, i, j in got)
    truth = {(i, j): s for s, i, j in exact}
    reference = {(i, j): s for s, i, j in brute_force_pairs(x)}
    assert all(s == pytest.approx(reference[(i, j)], abs=1e-6) for s, i, j in got)  # every score is exact
    assert got == sorted(got, key=lambda t: (-t[0], t[1], t[2]))
    recall = len(truth.keys() & {(i, j) for _, i, j in got}) / len(truth)
    assert recall >= 0.95, recall


def test_ties_are_ordered_like_the_exact_search():
    base = np.eye(16, dtype=np.float32)
    x = np.concatenate([base, base, base])  # every vector three times: 48 pairs tie at 1.0
    assert approximate_similar_pairs(x, top_k=48, neighbors=4) == most_similar_pairs(x, top_k=48)


def test_bad_arguments_and_a_missing_faiss_are_named(monkeypatch):
    x = np.random.default_rng(1).normal(size=(20, 8)).astype(np.float32)
    assert approximate_similar_pairs(x[:1]) == []
    for name in ("neighbors", "m", "ef_construction", "ef_search"):
        with pytest.raises(ConfigError, match=f"{name}=0"):
            approximate_similar_pairs(x, **{name: 0})
    with pytest.raises(ConfigError, match="use most_similar_pairs for distances"):
        approximate_similar_pairs(x, similarity="euclidean")
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingExtraError, match="ann"):
        approximate_similar_pairs(x)
