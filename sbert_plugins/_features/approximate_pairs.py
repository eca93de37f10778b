"""Approximate paraphrase mining for corpora past what an exact pass can afford (10M+ vectors).

Each vector's ``neighbors`` nearest neighbours come from a faiss HNSW graph (inner product); the pairs
they form are rescored exactly (float64) and the best ``top_k`` kept. Every returned score is exact; what
is approximate is which pairs are found: a pair is missed when neither vector has the other among its
neighbours. ``benchmarks/pairs_scale.py --approximate`` measures the recall against the exact answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._base.errors import ConfigError, require_extra
from .pair_mining import _rescore
from .similarity import _as_tensor, _check_top_k, _unit

_QUERY_BATCH = 1 << 16  # vectors searched at once: their neighbour lists are ~0.3 GB at 32 neighbours


def _check_positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}={value!r}: use an int >= 1")
    return value


def approximate_similar_pairs(
    embeddings: Any,
    top_k: int = 100,
    *,
    neighbors: int = 32,
    similarity: str = "cosine",
    m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 128,
) -> list[tuple[float, int, int]]:
    """The ``top_k`` most similar pairs ``(score, i, j)``, ``i < j``, best first, found through an HNSW graph.

    Scores are exact (float64, as float32) and ties are broken by ``(i, j)`` as in
    :func:`most_similar_pairs`; a pair is found when one of its vectors has the other among its
    ``neighbors`` nearest (so ``top_k`` larger than about ``n * neighbors / 2`` cannot be reached). ``m``,
    ``ef_construction`` and ``ef_search`` are faiss' HNSW parameters: larger is slower and finds more.
    Needs faiss (``pip install sbert-plugins[ann]``)."""
    k = _check_top_k(top_k)
    neighbors, m = _check_positive(neighbors, "neighbors"), _check_positive(m, "m")
    ef_construction = _check_positive(ef_construction, "ef_construction")
    ef_search = _check_positive(ef_search, "ef_search")
    if similarity not in ("cosine", "dot"):
        raise ConfigError(
            f"similarity={similarity!r}: the approximate search takes 'cosine' or 'dot'; use most_similar_pairs "
            "for distances"
        )
    faiss = require_extra("faiss", "ann")
    x = (_unit if similarity == "cosine" else _as_tensor)(embeddings, "embeddings").cpu()
    n = len(x)
    if n < 2:
        return []
    vectors = np.ascontiguousarray(x.numpy(), dtype=np.float32)
    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(vectors)
    index.hnsw.efSearch = max(ef_search, neighbors + 1)
    best = (np.empty(0, np.float32), np.empty(0, np.int64), np.empty(0, np.int64))
    for start in range(0, n, _QUERY_BATCH):
        _, found = index.search(vectors[start : start + _QUERY_BATCH], min(neighbors + 1, n))
        best = _merge(best, _pairs(found, start), x, k)
    return [(float(s), int(i), int(j)) for s, i, j in zip(*best, strict=True)]


def _pairs(found: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """``(i, j)``, ``i < j``, of each query and its neighbours (faiss marks missing ones -1); a pair found
    from both ends comes twice (``_merge`` keeps one)."""
    rows = np.repeat(np.arange(start, start + len(found)), found.shape[1])
    cols = found.reshape(-1)
    keep = (cols >= 0) & (cols != rows)
    i, j = np.minimum(rows[keep], cols[keep]), np.maximum(rows[keep], cols[keep])
    return i, j


def _merge(
    best: tuple[np.ndarray, np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray], x: torch.Tensor, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k best of the pairs so far and the new ones, each pair once, by score, i, j; only the pairs not
    already among the best are rescored (exactly, so a pair's score is the same whenever it is found)."""
    n = len(x)
    keys, first = np.unique(new[0] * n + new[1], return_index=True)
    fresh = first[~np.isin(keys, best[1] * n + best[2])]
    i, j = new[0][fresh], new[1][fresh]
    scores = np.concatenate([best[0], _rescore(x, torch.from_numpy(i), torch.from_numpy(j)).numpy()])
    i, j = np.concatenate([best[1], i]), np.concatenate([best[2], j])
    order = np.lexsort((j, i, -scores))[:k]
    return scores[order], i[order], j[order]
