"""Training examples and loaders for the shared STS / NLI files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from .._base.errors import ConfigError
from .._base.eval_data import load_sts, read_tsv

NLI_LABELS = {"contradiction": 0, "entailment": 1, "neutral": 2}


@dataclass(frozen=True)
class InputExample:
    """Texts of one training item (pair or triplet) and its label (score or class)."""

    texts: tuple[str, ...]
    label: int | float = 0


def sts_examples(
    name_or_path: str, max_score: float = 5.0, data_dir: str | os.PathLike[str] | None = None
) -> list[InputExample]:
    """STS pairs with gold scores scaled to [0, 1] (the regression objective's target)."""
    s1, s2, gold = load_sts(name_or_path, data_dir)
    return [InputExample((a, b), float(g) / max_score) for a, b, g in zip(s1, s2, gold, strict=True)]


def nli_examples(path: str | os.PathLike[str]) -> list[InputExample]:
    """``label<TAB>premise<TAB>hypothesis`` rows -> class ids (see ``NLI_LABELS``)."""
    examples = []
    for row in read_tsv(path):
        if row[0] not in NLI_LABELS:
            raise ConfigError(f"{path}: unknown NLI label {row[0]!r}; expected one of {sorted(NLI_LABELS)}")
        examples.append(InputExample((row[1], row[2]), NLI_LABELS[row[0]]))
    return examples


def columns(batch: Sequence[InputExample]) -> list[list[str]]:
    width = len(batch[0].texts)
    if any(len(e.texts) != width for e in batch):
        raise ConfigError("all training examples must have the same number of texts")
    return [[e.texts[i] for e in batch] for i in range(width)]
