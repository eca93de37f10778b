"""Pooling strategies: token embeddings -> one sentence embedding.

The paper (section 3) compares CLS, MEAN and MAX pooling; sentence-transformers
adds mean-sqrt-len. Each strategy is a plain function so plugins can add more
through the ``sbert_pooling_strategies`` hook without subclassing anything.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, Sequence

import torch
from torch import nn

from .._errors import ConfigError, ModelLoadError
from .._files import read_json

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


BUILTIN_POOLING: Dict[str, PoolingFn] = {
    "cls": cls_pooling,
    "max": max_pooling,
    "mean": mean_pooling,
    "mean_sqrt_len": mean_sqrt_len_pooling,
}

# sentence-transformers config keys, in the order it concatenates multiple modes.
_ST_KEYS = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"),
)


def available_pooling() -> Dict[str, PoolingFn]:
    """Built-in strategies plus those contributed by plugins."""
    from .._plugins import collect_mapping

    strategies = dict(BUILTIN_POOLING)
    strategies.update(collect_mapping("sbert_pooling_strategies"))
    return strategies


class Pooling(nn.Module):
    """Turns ``features['token_embeddings']`` into ``features['sentence_embedding']``.

    Several modes are concatenated in the given order, as sentence-transformers does.
    """

    def __init__(self, dimension: int, modes: str | Sequence[str] = "mean") -> None:
        super().__init__()
        names = [modes] if isinstance(modes, str) else list(modes)
        if not names:
            raise ConfigError("pooling needs at least one mode, e.g. 'mean'")
        strategies = available_pooling()
        unknown = [m for m in names if m not in strategies]
        if unknown:
            raise ConfigError(
                f"unknown pooling mode(s) {unknown}; choose from {sorted(strategies)} "
                "or register one with the sbert_pooling_strategies hook"
            )
        self.dimension = int(dimension)
        self.modes = names
        self._fns = [strategies[m] for m in names]

    @property
    def output_dimension(self) -> int:
        return self.dimension * len(self.modes)

    def forward(self, features: dict) -> dict:
        tokens, mask = features["token_embeddings"], features["attention_mask"]
        pooled = [fn(tokens, mask) for fn in self._fns]
        features["sentence_embedding"] = pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)
        return features

    def get_config(self) -> dict:
        config = {"word_embedding_dimension": self.dimension}
        for key, mode in _ST_KEYS:
            config[key] = mode in self.modes
        # Modes sentence-transformers does not know are kept under our own key.
        extra = [m for m in self.modes if m not in dict((v, k) for k, v in _ST_KEYS)]
        if extra:
            config["sbert_plugins_modes"] = self.modes
        return config

    def save(self, folder: str | Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "config.json").write_text(json.dumps(self.get_config(), indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> "Pooling":
        config = read_json(Path(folder) / "config.json")
        try:
            dimension = config["word_embedding_dimension"]
        except KeyError:
            raise ModelLoadError(
                f"{Path(folder) / 'config.json'} lacks 'word_embedding_dimension'"
            ) from None
        modes = config.get("sbert_plugins_modes") or [m for k, m in _ST_KEYS if config.get(k)]
        if not modes:
            raise ModelLoadError(f"{Path(folder) / 'config.json'} enables no pooling mode")
        return cls(dimension, modes)
