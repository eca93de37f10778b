"""STS evaluation as in the paper: Spearman x 100 of cosine vs gold scores."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._base.eval_data import load_sts
from .._base.protocols import Encoder


def rankdata(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (as scipy.stats.rankdata), 1-based."""
    x = np.asarray(values, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return ranks


def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def pearson(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


@dataclass
class STSResult:
    dataset: str
    spearman: float  # x 100, the paper's unit
    pearson: float
    pairs: int


def evaluate_pairs(
    encoder: Encoder,
    s1: Sequence[str],
    s2: Sequence[str],
    gold: Sequence[float] | np.ndarray,
    name: str = "pairs",
    batch_size: int | None = None,
) -> STSResult:
    """Spearman / Pearson x 100 of cos(s1[i], s2[i]) against gold[i]; each sentence encoded once."""
    unique = sorted(set(s1) | set(s2))
    vectors = encoder.encode(unique, batch_size=batch_size, normalize=True, allow_empty=True)
    index = {s: i for i, s in enumerate(unique)}
    a = vectors[[index[s] for s in s1]]
    b = vectors[[index[s] for s in s2]]
    cosine = (a * b).sum(axis=1)
    return STSResult(name, 100 * spearman(cosine, gold), 100 * pearson(cosine, gold), len(gold))


def evaluate_sts(
    encoder: Encoder,
    dataset: str = "stsb",
    batch_size: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> STSResult:
    """Cosine similarity of each pair vs gold, as Spearman and Pearson x 100.

    ``dataset`` is a name (``stsb``, ``sickr``, ``sts12`` ... ``sts16``) looked up in
    ``data_dir`` (default ``$SBERT_DATA_DIR``) or a TSV path.
    """
    s1, s2, gold = load_sts(dataset, data_dir)
    return evaluate_pairs(encoder, s1, s2, gold, dataset, batch_size)
