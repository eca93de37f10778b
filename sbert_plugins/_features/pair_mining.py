"""Paraphrase mining: the exact top-k most similar pairs among n embeddings, for n up to millions.

The n x n score matrix is visited in tiles (a block of rows against a block of columns, upper triangle
only) that are never kept: a tile whose largest score cannot reach the k-th best found so far is dropped
after one ``max``; the rest give up only the entries that can. For cosine and dot products the tiles may be
computed with bf16 products (the CPU's fastest native matmul where it has one): every score then lies
within a proven bound of the exact one, the threshold is lowered by that bound, and each candidate is
rescored in float64, so the answer is the exact one whatever ``matmul`` was used (float32 tiles are
rescored the same way, so both give the very same pairs, scores and order).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._base.errors import ConfigError
from ..models import onednn_linear
from .similarity import _check_chunk, _check_top_k, _finite, _scorer

_TILE_ELEMENTS = 1 << 23  # scores held at once: 8M (32 MB of float32), measured as fast per pair as larger
_DEFAULT_ROWS = 1024
_MAX_ROWS = 2048  # so that rows x cols stays at _TILE_ELEMENTS
_MERGE_BATCH = 1 << 13  # candidates gathered before they are rescored and merged (the floor then rises)
_RESCORE_BATCH = 1 << 16  # candidate pairs rescored at once (2 x 64k rows of float64: ~400 MB at 384 dims)
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)
_USEFUL_SLACK = 0.02  # bf16 tiles pay while their bound is below this share of a typical score


@dataclass(frozen=True)
class _Tiles:
    """What a pass over the tiles needs: the vectors, the ones the tiles are computed from, and the bound."""

    x: torch.Tensor  # prepared embeddings, float32
    low: torch.Tensor  # what tiles are computed from: x, or x in bf16
    slack: float  # |tile score - exact score| <= slack, before the tile's own rounding (see _round_down)
    exact: bool  # tile scores are exact (distances): nothing to rescore
    score: Any  # score(a, b) for distances and oneDNN products; None: torch.mm into a reused buffer


def _error_bound(x: torch.Tensor, low: torch.Tensor, rounded: bool) -> float:
    """A bound on ``|x_i . x_j - fl(low_i . low_j)|`` before the output is rounded, for any i, j.

    With ``e = x - low`` (the input rounding, exact in float32): ``x.y - low_x.low_y = low_x.e_y + e_x.low_y
    + e_x.e_y``, at most ``2 A E + E^2`` by Cauchy-Schwarz (A: the largest norm of ``low``, E: of ``e``).
    The float32 sum of d products (exact in float32 for bf16 inputs) adds at most ``gamma_d A^2`` in any
    order. The 1e-6 relative and 1e-30 absolute margins cover the norms' own rounding and flushed denormals.
    It grows with the largest norm: :func:`_prepare` takes float32 tiles where that makes bf16 ones useless."""
    d = x.shape[1]
    gamma = d * 2.0**-24 / (1 - d * 2.0**-24)
    big = _largest_norm(low)
    if rounded:
        err = max(
            _largest_norm(x[s : s + _NORM_ROWS] - low[s : s + _NORM_ROWS].float()) for s in range(0, len(x), _NORM_ROWS)
        )
    else:
        # a float32 matmul may use bf16 inside when the user lowered torch's float32 precision
        err = 0.0 if _float32_matmul_is_exact() else 2.0**-8 * big
    # 2^-23 A^2: a pair whose exact score rounds (to float32) onto the cut ties with it and must be seen
    return (2 * big * err + err * err + (gamma + 2.0**-23) * big * big) * (1 + 1e-6) + 1e-30


def _float32_matmul_is_exact() -> bool:
    """Whether float32 matmuls are plain float32 (not bf16 / TF32 inside). torch raises when the legacy and
    the newer precision settings are mixed: then assume they are not."""
    try:
        return torch.get_float32_matmul_precision() == "highest"
    except RuntimeError:
        return False


_NORM_ROWS = 1 << 16  # rows whose float64 norms are taken at once: no float64 copy of a million vectors


def _row_norms(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x[s : s + _NORM_ROWS].double().norm(dim=1) for s in range(0, len(x), _NORM_ROWS)])


def _largest_norm(x: torch.Tensor) -> float:
    return float(_row_norms(x).max())


def _round_down(value: float, dtype: torch.dtype) -> float:
    """The largest ``dtype`` number <= value: a tile entry (rounded to nearest, monotonic) of a score >= value
    is >= this, and comparing the tile with it is exact."""
    if math.isinf(value):
        return value
    t = torch.tensor(value, dtype=torch.float64).to(dtype)
    if float(t) > value:
        t = torch.nextafter(t, torch.tensor(float("-inf"), dtype=dtype))
    return float(t)


def _prepare(embeddings: Any, similarity: str, matmul: str) -> _Tiles:
    prepare, score = _scorer(similarity)
    x = prepare(embeddings, "embeddings").detach()  # scores, not a graph: torch.mm(out=...) refuses autograd
    if similarity not in ("cosine", "dot") or len(x) < 2:
        return _Tiles(x, x, 0.0, True, score)
    norms = _row_norms(x)
    _refuse_overflow(x, norms)
    low = x.to(torch.bfloat16) if _low_precision(matmul, x) else x
    if not bool(torch.isfinite(low).all()):  # within float32 range but past bf16's largest number
        low = x
    slack = _error_bound(x, low, low.dtype != x.dtype)
    if matmul == "auto" and low.dtype != x.dtype and slack > _USEFUL_SLACK * float(norms.median()) ** 2:
        low, slack = x, _error_bound(x, x, False)  # a few long vectors: bf16 candidates would be nearly all pairs
    return _Tiles(x, low, slack, False, _onednn_product(low))


def _onednn_product(low: torch.Tensor) -> Any:
    """float32 tiles through oneDNN where that kernel is measured faster than torch's BLAS (the encoder's
    verdict: 1.5x for these tiles on an AMD EPYC with AVX512, a fresh tile's allocation included); None
    elsewhere. The bound holds for any float32 summation order, so the rescored answer is the same."""
    if low.dtype != torch.float32 or low.device.type != "cpu":
        return None
    from .._encoding.precision import linear_kernel

    return _onednn_scores if linear_kernel() == "onednn" else None


def _onednn_scores(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return onednn_linear(a, b, None)


def _refuse_overflow(x: torch.Tensor, norms: torch.Tensor) -> None:
    """``|x_i . x_j| <= |x_i| |x_j|`` (partial sums too): if the two largest norms cannot overflow float32,
    no score can; otherwise look at every score (slow, but only for embeddings this large)."""
    top = norms.topk(min(2, len(x))).values
    if len(x) < 2 or float(top[0] * top[1]) * 1.001 < _FLOAT32_MAX:
        return
    rows = max(1, _TILE_ELEMENTS // len(x))
    for start in range(0, len(x), rows):
        _finite(x[start : start + rows] @ x.T)


def _low_precision(matmul: str, x: torch.Tensor) -> bool:
    """Whether tiles are computed with bf16 products: asked, or ``auto`` on a CPU whose bf16 is native and
    measured faster (the encoder's ``dtype="auto"`` verdict). Measured on an AMD EPYC with AVX512-BF16,
    100k vectors, against float32 tiles in the same run: 2.3x faster at top 1,000, 2.1x at top 100,000."""
    if matmul not in ("auto", "float32", "bfloat16"):
        raise ConfigError(f"matmul={matmul!r}: use 'auto', 'float32' or 'bfloat16'")
    if x.device.type == "cuda" and torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction:
        return False  # cuBLAS may then round partial sums to bf16, past the bound; float32 is fast there
    if matmul != "auto":
        return matmul == "bfloat16"
    if x.device.type != "cpu":
        return False
    from .._encoding.precision import auto_cpu_dtype

    return auto_cpu_dtype() == "bfloat16"


class _Best:
    """The k best pairs so far (exact scores, ordered by score descending, then i, then j) and the
    candidates waiting to join them; ``floor`` is the exact k-th score once k pairs are known."""

    def __init__(self, tiles: _Tiles, k: int) -> None:
        self.tiles, self.k = tiles, k
        self.scores, self.i, self.j = np.empty(0, np.float32), np.empty(0, np.int64), np.empty(0, np.int64)
        self.pending: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.waiting = 0
        self.floor = float("-inf")

    def add(self, values: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> None:
        self.pending.append((values, i, j))
        self.waiting += len(i)
        # the first k set the floor at once; after that, merges wait for a batch
        if self.waiting >= (self.k if self.floor == float("-inf") else max(self.k, _MERGE_BATCH)):
            self.merge()

    def merge(self) -> None:
        if not self.pending:
            return
        values, i, j = (torch.cat(parts) for parts in zip(*self.pending, strict=True))
        self.pending, self.waiting = [], 0
        if not self.tiles.exact:
            values = _rescore(self.tiles.x, i, j)
            keep = values >= self.floor
            values, i, j = values[keep], i[keep], j[keep]
        s = np.concatenate([self.scores, values.cpu().numpy()])
        a = np.concatenate([self.i, i.cpu().numpy()])
        b = np.concatenate([self.j, j.cpu().numpy()])
        order = np.lexsort((b, a, -s))[: self.k]
        self.scores, self.i, self.j = s[order], a[order], b[order]
        if len(self.scores) >= self.k:
            self.floor = float(self.scores[-1])

    def pairs(self) -> list[tuple[float, int, int]]:
        self.merge()
        return [(float(s), int(i), int(j)) for s, i, j in zip(self.scores, self.i, self.j, strict=True)]


def _rescore(x: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Float64 dot products of the pairs ``(i, j)``, in bounded batches, as float32."""
    out = torch.empty(len(i), dtype=torch.float32, device=x.device)
    for start in range(0, len(i), _RESCORE_BATCH):
        a, b = i[start : start + _RESCORE_BATCH], j[start : start + _RESCORE_BATCH]
        out[start : start + len(a)] = (x[a].double() * x[b].double()).sum(dim=1).float()
    return out


def _threshold(tile: torch.Tensor, best: _Best, slack: float) -> float:
    """The tile value at or above which an entry can still be in the top k (ties with the k-th included).

    It is the floor so far, or, before k pairs are known, a lower bound of the tile's own exact k-th score:
    its k-th value's predecessor (the value may have been rounded up), less the slack."""
    bound = best.floor
    if bound == float("-inf") and tile.numel() >= best.k:
        kth = tile.flatten().topk(best.k).values[-1]
        if slack > 0:
            kth = torch.nextafter(kth, torch.tensor(float("-inf"), dtype=kth.dtype))
        bound = float(kth) - slack
    return _round_down(bound - slack, tile.dtype)


def _scan_tile(tile: torch.Tensor, best: _Best, work: _Workspace, rows: int, cols: int) -> None:
    """Hand the tile's entries that can still be in the top k to ``best``; most tiles stop at the max."""
    threshold = _threshold(tile, best, best.tiles.slack)
    if float(tile.max()) < threshold:
        return
    above = work.above[: tile.numel()].view(tile.shape)
    hits = torch.nonzero(torch.ge(tile, threshold, out=above))
    if threshold == float("-inf"):
        hits = hits[torch.isfinite(tile[hits[:, 0], hits[:, 1]])]
    best.add(tile[hits[:, 0], hits[:, 1]], rows + hits[:, 0], cols + hits[:, 1])


class _Workspace:
    """Buffers reused by every tile: fresh 8M-entry temporaries per tile fragment the heap (the process grew
    by 1.2 GB over 100k vectors, measured), and the diagonal's mask is the same for every row block. Where
    ``tiles.score`` makes each tile (distances; oneDNN, which has no ``out=``), there is no score buffer: one
    same-sized tile at a time is freed and allocated again (peak RSS at 100k: 1,087 MB, as torch.mm's)."""

    def __init__(self, tiles: _Tiles, rows: int, cols: int) -> None:
        device = tiles.x.device
        size = rows * cols if tiles.score is None else 0
        self.scores = torch.empty(size, dtype=tiles.low.dtype, device=device)
        self.above = torch.empty(rows * cols, dtype=torch.bool, device=device)
        # row block r0 starts its columns at r0 + 1 and cols >= rows: only the first tile meets the diagonal
        self.diagonal = torch.arange(rows, device=device)[:, None] > torch.arange(cols, device=device)[None, :]


def _tile(tiles: _Tiles, work: _Workspace, r0: int, r1: int, c0: int, c1: int) -> torch.Tensor:
    """Scores of rows ``r0:r1`` against columns ``c0:c1``, with pairs (i, j) for j <= i set to -inf."""
    if tiles.score is not None:
        tile = tiles.score(tiles.low[r0:r1], tiles.low[c0:c1])
    else:
        tile = work.scores[: (r1 - r0) * (c1 - c0)].view(r1 - r0, c1 - c0)
        torch.mm(tiles.low[r0:r1], tiles.low[c0:c1].T, out=tile)
    if c0 == r0 + 1:
        tile.masked_fill_(work.diagonal[: r1 - r0, : c1 - c0], float("-inf"))
    return tile


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


def most_similar_pairs(
    embeddings: Any,
    top_k: int = 100,
    chunk_size: int | None = None,
    similarity: str = "cosine",
    matmul: str = "auto",
    show_progress_bar: bool | None = None,
) -> list[tuple[float, int, int]]:
    """The ``top_k`` most similar pairs ``(score, i, j)`` with ``i < j``, best first; exact for any k.

    The score matrix is visited in tiles of ``chunk_size`` rows (default 1,024, at most 2,048) by up to 8M
    scores, so memory stays bounded whatever n; a tile whose best score cannot reach the k-th best so far
    costs one ``max``. Ties are broken by ``(i, j)``, so the result does not depend on ``chunk_size``.
    ``similarity`` as in :func:`semantic_search`. For cosine and dot products every candidate is rescored in
    float64 (scores are those float64 values as float32), and ``matmul="bfloat16"`` finds the candidates
    with bf16 products within a proven bound of the exact scores: the answer is the same exact one either
    way, 2-3x faster on CPUs with native bf16, where ``"auto"`` (the default) takes it; elsewhere float32.
    ``show_progress_bar`` (default: on a terminal, from 20,000 vectors) shows pairs done and pairs/s.
    """
    k = _check_top_k(top_k)
    if chunk_size is not None:
        chunk_size = _check_chunk(chunk_size, "chunk_size")
    tiles = _prepare(embeddings, similarity, matmul)
    n = len(tiles.x)
    if n < 2:
        return []
    rows = min(chunk_size or _DEFAULT_ROWS, _MAX_ROWS, n)
    cols = max(rows, min(_TILE_ELEMENTS // rows, n))
    work = _Workspace(tiles, rows, cols)
    best = _Best(tiles, k)
    for r0 in _row_chunks(n, rows, show_progress_bar):
        r1 = min(r0 + rows, n)
        for c0 in range(r0 + 1, n, cols):  # columns j > i only: pairs with j < r0 were in an earlier block
            c1 = min(c0 + cols, n)
            _scan_tile(_tile(tiles, work, r0, r1, c0, c1), best, work, r0, c0)
    return best.pairs()
