"""Similarity utilities from the paper: cosine, paraphrase mining, semantic search.

Everything works in row chunks so 100k sentences never need an n x n matrix.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, List, Tuple

import numpy as np
import torch

from ._errors import EmbeddingContractError, InputError


def _as_tensor(x: Any, name: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    elif not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be a 2-D array of embeddings, got {type(x).__name__}") from exc
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise InputError(f"{name} must be 1-D or 2-D, got shape {tuple(x.shape)}")
    return x.float()


def _check_dims(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[1] != b.shape[1]:
        raise EmbeddingContractError(f"dimension mismatch: {a.shape[1]} vs {b.shape[1]}; both sides "
                                     "must come from the same model")


def cos_sim(a: Any, b: Any) -> torch.Tensor:
    """Cosine similarity matrix ``(len(a), len(b))``."""
    a, b = _as_tensor(a, "a"), _as_tensor(b, "b")
    _check_dims(a, b)
    a = torch.nn.functional.normalize(a, p=2, dim=1)
    b = torch.nn.functional.normalize(b, p=2, dim=1)
    return a @ b.T


def dot_score(a: Any, b: Any) -> torch.Tensor:
    a, b = _as_tensor(a, "a"), _as_tensor(b, "b")
    _check_dims(a, b)
    return a @ b.T


@dataclass(frozen=True)
class Hit:
    """One search result: ``corpus_id`` indexes the corpus, ``score`` is cosine."""

    corpus_id: int
    score: float


def semantic_search(query_embeddings: Any, corpus_embeddings: Any, top_k: int = 10,
                    query_chunk_size: int = 1000, corpus_chunk_size: int = 50000) -> List[List[Hit]]:
    """Top-k corpus entries by cosine for each query, best first."""
    queries = torch.nn.functional.normalize(_as_tensor(query_embeddings, "query_embeddings"), dim=1)
    corpus = torch.nn.functional.normalize(_as_tensor(corpus_embeddings, "corpus_embeddings"), dim=1)
    _check_dims(queries, corpus)
    if top_k < 1:
        raise InputError(f"top_k must be >= 1, got {top_k}")
    k = min(top_k, len(corpus))
    results: List[List[Hit]] = []
    for qs in range(0, len(queries), query_chunk_size):
        q = queries[qs:qs + query_chunk_size]
        best_s = torch.full((len(q), 0), float("-inf"))
        best_i = torch.zeros((len(q), 0), dtype=torch.long)
        for cs in range(0, len(corpus), corpus_chunk_size):
            scores = q @ corpus[cs:cs + corpus_chunk_size].T
            s, i = scores.topk(min(k, scores.shape[1]), dim=1)
            best_s, pos = torch.cat([best_s, s], 1).topk(min(k, best_s.shape[1] + s.shape[1]), dim=1)
            best_i = torch.cat([best_i, i + cs], 1).gather(1, pos)
        results.extend([[Hit(int(i), float(s)) for s, i in zip(rs, ri)]
                        for rs, ri in zip(best_s.tolist(), best_i.tolist())])
    return results


def most_similar_pairs(embeddings: Any, top_k: int = 100, chunk_size: int = 1024,
                       per_row: int = 10) -> List[Tuple[float, int, int]]:
    """The ``top_k`` most similar pairs ``(score, i, j)`` with ``i < j``, best first.

    Memory is ``O(chunk_size * n)``: each row chunk keeps its ``per_row`` best
    neighbours, then a heap keeps the global best. Exact for the single best pair.
    """
    x = torch.nn.functional.normalize(_as_tensor(embeddings, "embeddings"), dim=1)
    n = len(x)
    if n < 2:
        return []
    keep = min(max(per_row, 1) + 1, n)
    heap: List[Tuple[float, int, int]] = []
    in_heap = set()  # each pair is seen from both rows; keep it once
    for start in range(0, n, chunk_size):
        scores = x[start:start + chunk_size] @ x.T
        rows = torch.arange(scores.shape[0])
        scores[rows, rows + start] = float("-inf")  # a sentence is not its own paraphrase
        values, cols = scores.topk(keep - 1, dim=1)
        for r, (vs, cs) in enumerate(zip(values.tolist(), cols.tolist())):
            i = start + r
            for score, j in zip(vs, cs):
                pair = (min(i, j), max(i, j))
                if pair in in_heap:
                    continue
                item = (score, *pair)
                if len(heap) < top_k:
                    heapq.heappush(heap, item)
                elif item > heap[0]:
                    in_heap.discard(heapq.heapreplace(heap, item)[1:])
                else:
                    continue
                in_heap.add(pair)
    return sorted(heap, reverse=True)
