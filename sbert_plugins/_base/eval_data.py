"""Evaluation data: STS (STSb, SICK-R, STS12-16), SentEval and NLI TSV files.

The data folder is found from an explicit ``data_dir=`` argument or the
``SBERT_DATA_DIR`` environment variable, never by walking directories: the
package must not depend on where a repository happens to be checked out.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from .errors import ConfigError

DATA_ENV = "SBERT_DATA_DIR"
STS_FILES: dict[str, str] = {
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
SENTEVAL_TASKS = ("MR", "CR", "SUBJ", "MPQA", "SST", "TREC", "MRPC")


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The evaluation-data folder: ``path`` if given, else ``$SBERT_DATA_DIR``; an error says how to set it."""
    chosen = path if path is not None else os.environ.get(DATA_ENV)
    if not chosen:
        raise ConfigError(
            f"no evaluation data folder: pass data_dir=... (CLI: --data-dir) or set {DATA_ENV} to the folder "
            "holding stsb/, sickr/, sts12-16/ (e.g. shared/data)"
        )
    folder = Path(chosen).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"evaluation data folder {str(folder)!r} does not exist; check data_dir / {DATA_ENV}")
    return folder


_find = data_dir  # the loaders below take a ``data_dir`` argument, which shadows the function


def read_tsv(path: str | os.PathLike[str]) -> list[list[str]]:
    """Rows of a headered, unquoted TSV (sentences contain quotes, so no quoting)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError:
        raise ConfigError(f"data file {str(path)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"data file {str(path)!r} is not UTF-8 ({exc})") from None
    return rows[1:]


def sts_path(name_or_path: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    if name_or_path not in STS_FILES:
        raise ConfigError(f"unknown STS set {name_or_path!r}; use a .tsv path or one of {sorted(STS_FILES)}")
    return _find(data_dir) / STS_FILES[name_or_path]


def load_sts(
    name_or_path: str, data_dir: str | os.PathLike[str] | None = None
) -> tuple[list[str], list[str], np.ndarray]:
    """``(sentences1, sentences2, gold_scores)`` of a named set (``stsb``, ``sickr``, ``sts12``...) or a TSV file."""
    rows = read_tsv(sts_path(name_or_path, data_dir))
    try:
        gold = np.array([float(r[0]) for r in rows])
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"{name_or_path}: expected rows 'score<TAB>sentence1<TAB>sentence2' ({exc})") from None
    return [r[1] for r in rows], [r[2] for r in rows], gold


def load_senteval(task: str, data_dir: str | os.PathLike[str] | None = None) -> dict[str, tuple[list, list]]:
    """``{split: (texts, labels)}`` of a SentEval task; single-split tasks use ``'all'``.

    MRPC texts are ``(sentence1, sentence2)`` tuples. Empty texts (4 in CR, 2 in
    MPQA) are kept as SentEval does; callers decide how to embed them.
    """
    if task not in SENTEVAL_TASKS:
        raise ConfigError(f"unknown SentEval task {task!r}; choose from {SENTEVAL_TASKS}")
    rows = read_tsv(_find(data_dir) / "senteval" / f"{task}.tsv")
    splits: dict[str, tuple[list, list]] = {}
    text: str | tuple[str, str]
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
