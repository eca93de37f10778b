"""Pooling strategies: token embeddings -> one sentence embedding.

The paper (section 3) compares CLS, MEAN and MAX pooling; sentence-transformers
adds mean-sqrt-len. Each strategy is a plain function ``(tokens, mask) -> (batch, dim)``;
the built-in ones reach the encoder through the ``sbert_pooling_strategies`` hook like
any plugin's. :class:`Pooling` is handed its functions and looks nothing up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._base.errors import ConfigError

PoolingFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _masked(token_embeddings: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return token_embeddings * mask.unsqueeze(-1).to(token_embeddings.dtype)


def mean_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    summed = _masked(token_embeddings, attention_mask).sum(dim=1)
    counts = attention_mask.sum(dim=1, keepdim=True).clamp(min=1).to(summed.dtype)
    return summed / counts


def mean_sqrt_len_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    summed = _masked(token_embeddings, attention_mask).sum(dim=1)
    counts = attention_mask.sum(dim=1, keepdim=True).clamp(min=1).to(summed.dtype)
    return summed / counts.sqrt()


def max_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    # Padding must never win the max, so push it far below any real value.
    padded = token_embeddings.masked_fill(~attention_mask.bool().unsqueeze(-1), -1e4)
    return padded.max(dim=1).values


def cls_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    return token_embeddings[:, 0]


BUILTIN_POOLING: dict[str, PoolingFn] = {
    "cls": cls_pooling,
    "max": max_pooling,
    "mean": mean_pooling,
    "mean_sqrt_len": mean_sqrt_len_pooling,
}

# sentence-transformers config keys, in the order it concatenates multiple modes.
ST_POOLING_KEYS = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"),
)


class Pooling(nn.Module):
    """Turns ``features['token_embeddings']`` into ``features['sentence_embedding']``.

    ``functions`` are the strategies for ``modes`` (same order); several modes are
    concatenated in that order, as sentence-transformers does.
    """

    def __init__(self, dimension: int, modes: Sequence[str], functions: Sequence[PoolingFn]) -> None:
        super().__init__()
        if not modes or len(modes) != len(functions):
            raise ConfigError(f"Pooling needs one function per mode, got modes={list(modes)} and {len(functions)}")
        self.dimension = int(dimension)
        self.modes = list(modes)
        self._fns = list(functions)

    @property
    def output_dimension(self) -> int:
        return self.dimension * len(self.modes)

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        tokens, mask = features["token_embeddings"], features["attention_mask"]
        pooled = [fn(tokens, mask) for fn in self._fns]
        features["sentence_embedding"] = pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)
        return features

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"word_embedding_dimension": self.dimension}
        known = {mode for _, mode in ST_POOLING_KEYS}
        for key, mode in ST_POOLING_KEYS:
            config[key] = mode in self.modes
        if any(m not in known for m in self.modes):  # modes sentence-transformers does not know
            config["sbert_plugins_modes"] = self.modes
        return config

    def save(self, folder: str | Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "config.json").write_text(json.dumps(self.get_config(), indent=2))
