"""STS evaluation as in the paper: Spearman x 100 of cosine vs gold scores."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._errors import ConfigError

STS_FILES: Dict[str, str] = {
    "stsb": "stsb/test.tsv",
    "stsb-dev": "stsb/dev.tsv",
    "stsb-train": "stsb/train.tsv",
    "sickr": "sickr/test.tsv",
    "sts12": "sts12-16/sts12.tsv",
    "sts13": "sts12-16/sts13.tsv",
    "sts14": "sts12-16/sts14.tsv",
    "sts15": "sts12-16/sts15.tsv",
    "sts16": "sts12-16/sts16.tsv",
}
PAPER_SETS = ("sts12", "sts13", "sts14", "sts15", "sts16", "stsb", "sickr")


def data_dir() -> Optional[Path]:
    """``$SBERT_PLUGINS_DATA``, else the first ``shared/data`` found above the cwd or this package."""
    env = os.environ.get("SBERT_PLUGINS_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for base in (Path.cwd(), Path(__file__).resolve().parent):
        for parent in (base, *base.parents):
            for candidate in (parent / "shared" / "data", parent.parent / "shared" / "data"):
                if (candidate / "stsb").is_dir():
                    return candidate
    return None


def read_tsv(path: Path) -> List[List[str]]:
    """Rows of a headered, unquoted TSV (sentences contain quotes, so no quoting)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]


def load_sts(name_or_path: str) -> Tuple[List[str], List[str], np.ndarray]:
    """``(sentences1, sentences2, gold_scores)`` of a named set or a TSV file."""
    path = Path(name_or_path)
    if not path.is_file():
        if name_or_path not in STS_FILES:
            raise ConfigError(f"unknown STS set {name_or_path!r}; use a .tsv path or one of {sorted(STS_FILES)}")
        root = data_dir()
        if root is None:
            raise ConfigError("STS data not found: set SBERT_PLUGINS_DATA to the shared/data folder")
        path = root / STS_FILES[name_or_path]
    rows = read_tsv(path)
    return [r[1] for r in rows], [r[2] for r in rows], np.array([float(r[0]) for r in rows])


def rankdata(values: Sequence[float]) -> np.ndarray:
    """Ranks with ties averaged (as scipy.stats.rankdata), 1-based."""
    x = np.asarray(values, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def pearson(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


@dataclass
class STSResult:
    dataset: str
    spearman: float  # x 100, the paper's unit
    pearson: float
    pairs: int


def evaluate_sts(encoder, dataset: str = "stsb", batch_size: int = 64) -> STSResult:
    """Cosine similarity of each pair vs gold, as Spearman and Pearson x 100."""
    s1, s2, gold = load_sts(dataset)
    return evaluate_pairs(encoder, s1, s2, gold, dataset, batch_size)


def evaluate_pairs(encoder, s1: Sequence[str], s2: Sequence[str], gold: Sequence[float], name: str = "pairs",
                   batch_size: int = 64) -> STSResult:
    """Spearman / Pearson x 100 of cos(s1[i], s2[i]) against gold[i]; each sentence encoded once."""
    unique = sorted(set(s1) | set(s2))
    vectors = encoder.encode(unique, batch_size=batch_size, normalize=True, allow_empty=True)
    index = {s: i for i, s in enumerate(unique)}
    a = vectors[[index[s] for s in s1]]
    b = vectors[[index[s] for s in s2]]
    cosine = (a * b).sum(axis=1)
    return STSResult(name, 100 * spearman(cosine, gold), 100 * pearson(cosine, gold), len(gold))


SENTEVAL_TASKS = ("MR", "CR", "SUBJ", "MPQA", "SST", "TREC", "MRPC")


def load_senteval(task: str) -> Dict[str, Tuple[list, list]]:
    """``{split: (texts, labels)}`` of a SentEval task; single-split tasks use ``'all'``.

    MRPC texts are ``(sentence1, sentence2)`` tuples. Empty texts (4 in CR, 2 in
    MPQA) are kept as SentEval does; callers decide how to embed them.
    """
    if task not in SENTEVAL_TASKS:
        raise ConfigError(f"unknown SentEval task {task!r}; choose from {SENTEVAL_TASKS}")
    root = data_dir()
    if root is None or not (root / "senteval" / f"{task}.tsv").is_file():
        raise ConfigError("SentEval data not found: set SBERT_PLUGINS_DATA to the shared/data folder")
    rows = read_tsv(root / "senteval" / f"{task}.tsv")
    splits: Dict[str, Tuple[list, list]] = {}
    for row in rows:
        if task in ("SST", "TREC"):
            split, label, text = row[0], row[1], row[2]
        elif task == "MRPC":
            split, label, text = row[0], row[1], (row[2], row[3])
        else:
            split, label, text = "all", row[0], row[1]
        texts, labels = splits.setdefault(split, ([], []))
        texts.append(text)
        labels.append(label)
    return splits
