"""Paraphrase mining and semantic search against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from sbert_plugins import ConfigError, EmbeddingContractError, cos_sim, most_similar_pairs, semantic_search


@pytest.fixture()
def vectors():
    return np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)


def test_cos_sim_matches_numpy(vectors):
    a, b = vectors[:5], vectors[5:9]
    expected = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    np.testing.assert_allclose(cos_sim(a, b).numpy(), expected, atol=1e-6)


def test_semantic_search_matches_brute_force(vectors):
    queries, corpus = vectors[:7], vectors[7:]
    hits = semantic_search(queries, corpus, top_k=5, query_chunk_size=3, corpus_chunk_size=50)
    sims = cos_sim(queries, corpus).numpy()
    for row, result in zip(sims, hits, strict=False):
        assert [h.corpus_id for h in result] == list(np.argsort(-row)[:5])


def test_dims_mismatch_is_clear(vectors):
    with pytest.raises(EmbeddingContractError, match="dimension mismatch: 16 vs 8"):
        semantic_search(vectors[:2], np.zeros((3, 8), dtype=np.float32))


@pytest.mark.parametrize("corpus_chunk_size", [1, 7, 64, 50000])
@pytest.mark.parametrize("query_chunk_size", [1, 5, 1000])
def test_semantic_search_breaks_ties_by_corpus_id_whatever_the_chunking(corpus_chunk_size, query_chunk_size):
    """Trust issue, item 11: equal scores come back by corpus id, as most_similar_pairs orders them."""
    rng = np.random.default_rng(3)
    corpus = np.eye(8, dtype=np.float32)[rng.integers(0, 8, size=200)]  # scores are exactly 0 or 1: ties everywhere
    queries = np.eye(8, dtype=np.float32)[rng.integers(0, 8, size=30)]
    hits = semantic_search(
        queries, corpus, top_k=15, corpus_chunk_size=corpus_chunk_size, query_chunk_size=query_chunk_size
    )
    for q, row in zip(queries, hits, strict=True):
        scores = corpus @ q
        expected = sorted(range(len(corpus)), key=lambda i: (-scores[i], i))[:15]
        assert [h.corpus_id for h in row] == expected
        assert [h.score for h in row] == pytest.approx([float(scores[i]) for i in expected])


@pytest.mark.parametrize("similarity", ["cosine", "dot", "euclidean", "manhattan"])
def test_every_model_similarity_is_exact_against_brute_force(similarity):
    """The four similarity_fn_name values sentence-transformers models declare, for search and pair mining."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 6)).astype(np.float64)
    if similarity == "cosine":
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        full = unit @ unit.T
    elif similarity == "dot":
        full = x @ x.T
    else:
        order = 2 if similarity == "euclidean" else 1
        full = -np.linalg.norm(x[:, None, :] - x[None, :, :], ord=order, axis=2)
    hits = semantic_search(x[:10].astype(np.float32), x.astype(np.float32), top_k=5, similarity=similarity)
    for q, row in enumerate(hits):
        assert [h.corpus_id for h in row] == list(np.argsort(-full[q], kind="stable")[:5])
    pairs = most_similar_pairs(x.astype(np.float32), top_k=20, chunk_size=17, similarity=similarity)
    i, j = np.triu_indices(len(x), k=1)
    expected = sorted(zip(full[i, j], i, j, strict=True), key=lambda t: (-t[0], t[1], t[2]))[:20]
    assert [(a, b) for _, a, b in pairs] == [(int(a), int(b)) for _, a, b in expected]
    with pytest.raises(ConfigError, match="similarity='jaccard'"):
        semantic_search(x[:1], x, similarity="jaccard")


def test_overflowing_scores_and_bad_chunk_sizes_are_named():
    from sbert_plugins import InputError

    huge = np.array([[1e20, 1e20]], dtype=np.float32)
    with pytest.raises(InputError, match="overflows float32"):
        semantic_search(huge, np.array([[1e20, -1e20]], dtype=np.float32), similarity="dot")
    with pytest.raises(InputError, match="overflows float32"):
        most_similar_pairs(np.array([[1e20, 1e20], [1e20, -1e20], [1.0, 1.0]], dtype=np.float32), similarity="dot")
    for name in ("query_chunk_size", "corpus_chunk_size"):
        with pytest.raises(ConfigError, match=f"{name}=0"):
            semantic_search(huge, huge, **{name: 0})
