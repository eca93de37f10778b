"""Similarity utilities from the paper: cosine, paraphrase mining, semantic search.

Everything works in row chunks, so 100k sentences never need an n x n matrix, and
runs where the embeddings are: a CUDA tensor (``encode(..., convert_to="torch")`` on a
GPU encoder) is searched on the GPU. Results are exact.
"""

from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._base.errors import ConfigError, EmbeddingContractError, InputError

_CHUNK_ELEMENTS = 1 << 24  # scores held at once: 16M floats (64 MB) per chunk
_ROW_CANDIDATES = 256  # per-row top-m used to bound a chunk's k-th score


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
    return prepare, lambda a, b: _finite(-torch.cdist(a, b, p=p))


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


def _chunk_candidates(
    scores: torch.Tensor, k: int, floor: float, slack: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entries of a score chunk that can still be in the global top k: every finite entry at or above a
    bound that is <= the chunk's k-th value and the global k-th so far (ties included, so the final
    tie-break is exact). The bound is the k-th value among each row's top ``m`` entries; a row whose
    m-th entry still reaches the bound may hold more, and only those rows are scanned in full.

    ``slack`` is how far the scores may be from the exact ones (bf16 products): the bounds are lowered by
    it so that no entry whose exact score qualifies is left out; the caller rescores the candidates."""
    m = min(k, scores.shape[1], _ROW_CANDIDATES)
    values, columns = scores.topk(m, dim=1)
    flat = values.flatten()
    bound = float(flat.topk(k).values[-1]) - slack if flat.numel() >= k else float("-inf")
    threshold = max(bound, floor) - slack
    full = values[:, -1] >= threshold if m < scores.shape[1] else torch.zeros_like(values[:, 0], dtype=torch.bool)
    keep = (values >= threshold) & torch.isfinite(values) & ~full[:, None]
    found_values, found_rows, found_columns = [values[keep]], [torch.nonzero(keep)[:, 0]], [columns[keep]]
    if bool(full.any()):
        rows = torch.nonzero(full).flatten()
        sub = scores[rows]
        hits = torch.nonzero((sub >= threshold) & torch.isfinite(sub))
        found_values.append(sub[hits[:, 0], hits[:, 1]])
        found_rows.append(rows[hits[:, 0]])
        found_columns.append(hits[:, 1])
    width = scores.shape[1]
    return torch.cat(found_values), torch.cat(found_rows) * width + torch.cat(found_columns)


_PROGRESS_ROWS = 20_000


def _row_chunks(n: int, rows: int, show: bool | None) -> Any:
    starts = range(0, n - 1, rows)
    if not (show if show is not None else n >= _PROGRESS_ROWS and sys.stderr.isatty()):
        return starts
    return _counted_rows(starts, n, rows)


def _counted_rows(starts: range, n: int, rows: int) -> Any:
    from tqdm.auto import tqdm

    # the chunk at row r scores n - r columns: the bar counts pairs, so its rate and estimate are true
    with tqdm(total=n * (n - 1) // 2, desc="Pairs", unit="pair", unit_scale=True, smoothing=0.1) as bar:
        for start in starts:
            yield start
            end = min(start + rows, n)
            bar.update(sum(n - 1 - r for r in range(start, end)))


def _merge(
    best: tuple[np.ndarray, ...], values: np.ndarray, i: np.ndarray, j: np.ndarray, k: int
) -> tuple[np.ndarray, ...]:
    """The k best of the union, ordered by score (descending), then i, then j."""
    s = np.concatenate([best[0], values])
    a = np.concatenate([best[1], i])
    b = np.concatenate([best[2], j])
    order = np.lexsort((b, a, -s))[:k]
    return s[order], a[order], b[order]


_AUTO_BF16_MAX_K = 1000  # measured (AMD EPYC, AVX512-BF16, 100k vectors): bf16 1.7x faster at top 1,000,
# 1.6x slower at top 100,000, where the candidates within the error bound are too many to rescore cheaply


def _low_precision(matmul: str, x: torch.Tensor, similarity: str, k: int) -> bool:
    """Whether candidates are found with bf16 products: asked, or ``auto`` for a small k on a CPU whose bf16
    is native and measured faster (the encoder's ``dtype="auto"`` verdict); never for distances."""
    if matmul not in ("auto", "float32", "bfloat16"):
        raise ConfigError(f"matmul={matmul!r}: use 'auto', 'float32' or 'bfloat16'")
    if similarity not in ("cosine", "dot") or matmul == "float32":
        return False
    if matmul == "bfloat16":
        return True
    if x.device.type != "cpu" or k > _AUTO_BF16_MAX_K:
        return False
    from .._encoding.precision import auto_cpu_dtype

    return auto_cpu_dtype() == "bfloat16"


_RESCORE_BATCH = 1 << 16  # candidate pairs rescored at once (2 x 64k rows of float64: ~400 MB at 384 dims)


def _rescore(x: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Float64 dot products of the pairs ``(i, j)``, in bounded batches, as float32."""
    out = torch.empty(len(i), dtype=torch.float32, device=x.device)
    for start in range(0, len(i), _RESCORE_BATCH):
        a, b = i[start : start + _RESCORE_BATCH], j[start : start + _RESCORE_BATCH]
        out[start : start + len(a)] = (x[a].double() * x[b].double()).sum(dim=1).float()
    return out


# bf16 keeps 8 significant bits: inputs rounded (2 x 2^-8), the product rounded to bf16 (2^-8), fp32 sums
_BF16_ERROR = 2**-7 + 2**-8 + 2**-12


def most_similar_pairs(
    embeddings: Any,
    top_k: int = 100,
    chunk_size: int | None = None,
    similarity: str = "cosine",
    matmul: str = "float32",
    show_progress_bar: bool | None = None,
) -> list[tuple[float, int, int]]:
    """The ``top_k`` most similar pairs ``(score, i, j)`` with ``i < j``, best first; exact for any k.

    Rows are scored in chunks against all rows (memory ``O(chunk_size * n)``); each
    chunk contributes only entries at or above the global k-th score found so far.
    Ties are broken by ``(i, j)``, so the result does not depend on ``chunk_size``.
    ``similarity`` as in :func:`semantic_search`. ``matmul="bfloat16"`` finds candidates with bf16 products,
    within a proven error bound of the exact scores, and rescores every candidate in float64: the answer is
    the exact one either way. It pays for small ``top_k`` on CPUs with native bf16 (``"auto"`` takes it
    there, for ``top_k <= 1000``); for a large ``top_k`` the candidates near the cut are too many.
    ``show_progress_bar`` (default: on a terminal, from 20,000 vectors) shows rows done and rows/s.
    """
    k = _check_top_k(top_k)
    if chunk_size is not None:
        chunk_size = _check_chunk(chunk_size, "chunk_size")
    prepare, score = _scorer(similarity)
    x = prepare(embeddings, "embeddings")
    n = len(x)
    if n < 2:
        return []
    rows = max(1, min(chunk_size or n, _CHUNK_ELEMENTS // n))
    low = x.to(torch.bfloat16) if _low_precision(matmul, x, similarity, k) else None
    slack = 0.0 if low is None else _BF16_ERROR * float(x.norm(dim=1).max()) ** 2
    best: tuple[np.ndarray, ...] = (np.empty(0, np.float32), np.empty(0, np.int64), np.empty(0, np.int64))
    for start in _row_chunks(n, rows, show_progress_bar):
        # only columns j >= start: pairs (i, j) with j < start were scored by an earlier chunk
        scores = (
            score(x[start : start + rows], x[start:])
            if low is None
            else _finite((low[start : start + rows] @ low[start:].T).float())
        )
        block = torch.arange(len(scores), device=x.device)
        scores.masked_fill_(block[:, None] >= torch.arange(scores.shape[1], device=x.device)[None, :], float("-inf"))
        floor = float(best[0][-1]) if len(best[0]) >= k else float("-inf")
        values_t, flat_t = _chunk_candidates(scores, k, floor, slack)
        width = scores.shape[1]
        i_t, j_t = start + flat_t // width, start + flat_t % width
        if low is not None:  # the exact score of every candidate
            values_t = _rescore(x, i_t, j_t)
        best = _merge(best, values_t.cpu().numpy(), i_t.cpu().numpy(), j_t.cpu().numpy(), k)
    return [(float(s), int(i), int(j)) for s, i, j in zip(*best, strict=True)]
