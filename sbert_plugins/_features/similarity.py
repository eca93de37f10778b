"""Similarity utilities from the paper: cosine, the four model similarities, semantic search.

Everything works in row chunks, so 100k sentences never need an n x n matrix, and
runs where the embeddings are: a CUDA tensor (``encode(..., convert_to="torch")`` on a
GPU encoder) is searched on the GPU. Results are exact.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._base.errors import ConfigError, EmbeddingContractError, InputError


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
    x = x.float()
    finite = torch.isfinite(x).all(dim=1)
    if not bool(finite.all()):
        rows = torch.nonzero(~finite).flatten()[:10].tolist()
        raise InputError(f"{name} has NaN or infinite values in row(s) {rows}; drop or re-embed them", indices=rows)
    return x


def _unit(x: Any, name: str) -> torch.Tensor:
    return torch.nn.functional.normalize(_as_tensor(x, name), p=2, dim=1)


def _check_dims(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[1] != b.shape[1]:
        raise EmbeddingContractError(
            f"dimension mismatch: {a.shape[1]} vs {b.shape[1]}; both sides must come from the same model"
        )


def _check_top_k(top_k: Any) -> int:
    if not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool) or top_k < 1:
        raise ConfigError(f"top_k={top_k!r}: use an int >= 1")
    return int(top_k)


def cos_sim(a: Any, b: Any) -> torch.Tensor:
    """Cosine similarity matrix ``(len(a), len(b))``."""
    a, b = _unit(a, "a"), _unit(b, "b")
    _check_dims(a, b)
    return a @ b.T.to(a.device)


def dot_score(a: Any, b: Any) -> torch.Tensor:
    """Dot-product matrix ``(len(a), len(b))`` (equals cosine for unit-length embeddings)."""
    a, b = _as_tensor(a, "a"), _as_tensor(b, "b")
    _check_dims(a, b)
    return a @ b.T.to(a.device)


SIMILARITIES = ("cosine", "dot", "euclidean", "manhattan")  # a model's similarity_fn_name


def _scorer(similarity: str) -> tuple[Any, Any]:
    """``(prepare, score)`` for a similarity: prepare checks (and for cosine normalises) the embeddings,
    ``score(a, b)`` is the ``(len(a), len(b))`` matrix, higher = more similar (distances are negated,
    as sentence-transformers' ``euclidean_sim`` / ``manhattan_sim``)."""
    if similarity not in SIMILARITIES:
        raise ConfigError(f"similarity={similarity!r}: choose one of {SIMILARITIES}")
    prepare = _unit if similarity == "cosine" else _as_tensor
    if similarity in ("cosine", "dot"):
        return prepare, lambda a, b: _finite(a @ b.T)
    p = 2.0 if similarity == "euclidean" else 1.0
    # the direct form: the matmul one (|a|^2 + |b|^2 - 2ab) loses near-duplicates to cancellation
    return prepare, lambda a, b: _finite(-torch.cdist(a, b, p=p, compute_mode="donot_use_mm_for_euclid_dist"))


def _finite(scores: torch.Tensor) -> torch.Tensor:
    """Scores that overflowed (finite but huge embeddings): refused, never a silent or a raw failure."""
    if not bool(torch.isfinite(scores).all()):
        raise InputError(
            "the similarity of these embeddings overflows float32 (values too large); normalise them or use "
            "similarity='cosine'"
        )
    return scores


def _check_chunk(value: Any, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name}={value!r}: use an int >= 1")
    return int(value)


@dataclass(frozen=True)
class Hit:
    """One search result: ``corpus_id`` indexes the corpus, ``score`` is the similarity (cosine by default)."""

    corpus_id: int
    score: float


def semantic_search(
    query_embeddings: Any,
    corpus_embeddings: Any,
    top_k: int = 10,
    query_chunk_size: int = 1000,
    corpus_chunk_size: int = 50000,
    similarity: str = "cosine",
) -> list[list[Hit]]:
    """Top-k corpus entries for each query, best first; equal scores by corpus id (smaller first), so the
    answer does not depend on the chunk sizes. ``similarity`` is cosine, dot, euclidean or manhattan (pass
    the model's ``encoder.similarity_fn_name``)."""
    k = _check_top_k(top_k)
    query_chunk_size = _check_chunk(query_chunk_size, "query_chunk_size")
    corpus_chunk_size = _check_chunk(corpus_chunk_size, "corpus_chunk_size")
    prepare, score = _scorer(similarity)
    queries = prepare(query_embeddings, "query_embeddings")
    corpus = prepare(corpus_embeddings, "corpus_embeddings").to(queries.device)
    _check_dims(queries, corpus)
    k = min(k, len(corpus))
    results: list[list[Hit]] = []
    for qs in range(0, len(queries), query_chunk_size):
        q = queries[qs : qs + query_chunk_size]
        best_s = torch.full((len(q), 0), float("-inf"), device=q.device)
        best_i = torch.zeros((len(q), 0), dtype=torch.long, device=q.device)
        for cs in range(0, len(corpus), corpus_chunk_size):
            scores = score(q, corpus[cs : cs + corpus_chunk_size])
            ids = torch.arange(cs, cs + scores.shape[1], device=q.device).expand_as(scores)
            s, i = _exact_top_k(scores, ids, k)
            best_s, best_i = _exact_top_k(torch.cat([best_s, s], 1), torch.cat([best_i, i], 1), k)
        rows = zip(best_s.cpu().tolist(), best_i.cpu().tolist(), strict=True)
        results.extend([[Hit(int(i), float(s)) for s, i in zip(rs, ri, strict=True)] for rs, ri in rows])
    return results


def _exact_top_k(values: torch.Tensor, ids: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's ``k`` best ``(value, id)``, value descending and equal values by smaller id, exactly.

    ``topk`` breaks ties in no documented order, so every entry tied with a row's k-th value is
    kept as a candidate, and a lexicographic order (row, -value, id) built from stable sorts picks."""
    k = min(k, values.shape[1])
    if k == 0:
        return values[:, :0], ids[:, :0]
    kth = values.topk(k, dim=1).values[:, -1:]
    rows, cols = torch.nonzero(values >= kth, as_tuple=True)
    v, i = values[rows, cols], ids[rows, cols]
    perm = torch.arange(len(v), device=v.device)
    for key in (i, -v, rows):  # least significant first; each stable sort keeps the previous order in ties
        perm = perm[torch.sort(key[perm], stable=True).indices]
    rows, v, i = rows[perm], v[perm], i[perm]
    counts = torch.bincount(rows, minlength=values.shape[0])
    rank = torch.arange(len(rows), device=v.device) - (torch.cumsum(counts, 0) - counts)[rows]
    keep = rank < k
    return v[keep].view(-1, k), i[keep].view(-1, k)
