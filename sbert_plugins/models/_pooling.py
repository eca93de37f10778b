"""Pooling strategies: token embeddings -> one sentence embedding.

The paper (section 3) compares CLS, MEAN and MAX pooling; sentence-transformers
adds mean-sqrt-len, position-weighted mean (``weightedmean``) and the last real token
(``lasttoken``, for decoder embedders such as Qwen3-Embedding). Inputs are padded on the
right here, so "first" and "last" are read from the attention mask, and left-padding
tokenizers give the same vectors. Each strategy is a plain function ``(tokens, mask) -> (batch, dim)``;
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


def _gather(token_embeddings: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return token_embeddings[torch.arange(len(index), device=index.device), index]


def cls_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The first token the mask keeps (position 0, unless prompt tokens are excluded)."""
    return _gather(token_embeddings, attention_mask.int().argmax(dim=1))


def last_token_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The last token the mask keeps (for a decoder, the one that has seen the whole text)."""
    width = attention_mask.shape[1]
    last = width - 1 - attention_mask.int().flip(1).argmax(dim=1)
    return _masked(token_embeddings, attention_mask)[torch.arange(len(last), device=last.device), last]


def weighted_mean_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean weighted by position (1 for the first token): later tokens of a decoder count more."""
    weights = torch.arange(1, attention_mask.shape[1] + 1, device=attention_mask.device).unsqueeze(0)
    weighted = attention_mask.to(token_embeddings.dtype) * weights.to(token_embeddings.dtype)
    summed = (token_embeddings * weighted.unsqueeze(-1)).sum(dim=1)
    return summed / weighted.sum(dim=1, keepdim=True).clamp(min=1e-9)


BUILTIN_POOLING: dict[str, PoolingFn] = {
    "cls": cls_pooling,
    "max": max_pooling,
    "mean": mean_pooling,
    "mean_sqrt_len": mean_sqrt_len_pooling,
    "weightedmean": weighted_mean_pooling,
    "lasttoken": last_token_pooling,
}

# sentence-transformers' legacy config keys, in the order it concatenates multiple modes.
ST_POOLING_KEYS = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"),
    ("pooling_mode_weightedmean_tokens", "weightedmean"),
    ("pooling_mode_lasttoken", "lasttoken"),
)
# its current format's pooling_mode names -> ours
ST_POOLING_NAMES = {"mean_sqrt_len_tokens": "mean_sqrt_len"}


class Pooling(nn.Module):
    """Turns ``features['token_embeddings']`` into ``features['sentence_embedding']``.

    ``functions`` are the strategies for ``modes`` (same order); several modes are
    concatenated in that order, as sentence-transformers does. ``include_prompt=False``
    leaves the prompt's tokens (``features['prompt_length']`` of them) out of the pooling.
    """

    def __init__(
        self, dimension: int, modes: Sequence[str], functions: Sequence[PoolingFn], include_prompt: bool = True
    ) -> None:
        super().__init__()
        if not modes or len(modes) != len(functions):
            raise ConfigError(f"Pooling needs one function per mode, got modes={list(modes)} and {len(functions)}")
        self.dimension = int(dimension)
        self.modes = list(modes)
        self._fns = list(functions)
        self.include_prompt = bool(include_prompt)

    @property
    def output_dimension(self) -> int:
        return self.dimension * len(self.modes)

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        tokens, mask = features["token_embeddings"], features["attention_mask"]
        skip = int(features.get("prompt_length", 0))
        if not self.include_prompt and skip:
            mask = mask.clone()  # inputs are padded on the right, so the prompt is each row's first tokens
            mask[:, :skip] = 0
        pooled = [fn(tokens, mask) for fn in self._fns]
        features["sentence_embedding"] = pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)
        return features

    def get_config(self) -> dict[str, Any]:
        """The legacy sentence-transformers keys, which its current and older versions both read."""
        config: dict[str, Any] = {"word_embedding_dimension": self.dimension}
        known = [mode for _, mode in ST_POOLING_KEYS]
        for key, mode in ST_POOLING_KEYS:
            config[key] = mode in self.modes
        config["include_prompt"] = self.include_prompt
        in_st_order = sorted(self.modes, key=lambda m: known.index(m) if m in known else len(known))
        if any(m not in known for m in self.modes) or in_st_order != self.modes:  # order or modes ST lacks
            config["sbert_plugins_modes"] = self.modes
        return config

    def save(self, folder: str | Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "config.json").write_text(json.dumps(self.get_config(), indent=2))
