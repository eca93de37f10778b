"""StaticEmbedding: a token embedding table averaged per text (model2vec, static-retrieval-mrl).

The fastest CPU embedders there are: no transformer runs, a text's vector is the mean of its tokens'
rows (``nn.EmbeddingBag``), tokenized without special tokens and never truncated, as
sentence-transformers computes it. It stands where the Transformer stands (first module) and
offers the same interface to the encode loop, so no other module changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._base.errors import ConfigError
from ._transformer import Transformer

UNBOUNDED = 1 << 30  # no max_seq_length: every token of a text counts


class StaticEmbedding(Transformer):
    """``features['sentence_embedding']`` = the mean embedding of the text's tokens."""

    def __init__(self, tokenizer: Any, weight: torch.Tensor) -> None:
        nn.Module.__init__(self)  # nothing of a transformers model: only the table and the tokenizer
        self.static_tokenizer = tokenizer  # a ``tokenizers.Tokenizer``
        self.static_tokenizer.no_padding()
        self.static_tokenizer.no_truncation()
        self.embedding = nn.EmbeddingBag.from_pretrained(weight.float(), freeze=False, mode="mean")
        self.auto_model: Any = self.embedding  # what set_dtype casts
        self.max_seq_length = UNBOUNDED
        self.do_lower_case = False
        self._wants_token_types = False

    @property
    def tokenizer(self) -> Any:
        return _TokenizerView(self.static_tokenizer)

    @tokenizer.setter
    def tokenizer(self, value: Any) -> None:
        self.static_tokenizer = value

    @property
    def dimension(self) -> int:
        return int(self.embedding.embedding_dim)

    def compile_model(self, on: bool = True, package: bool = False) -> None:
        if on:
            raise ConfigError(
                "compile=True: a StaticEmbedding model looks its vectors up and averages them, so there is no "
                "network to compile; use compile=False"
            )

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.static_tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def prompt_length(self, prompt: str) -> int:
        return len(self.token_ids([prompt])[0])

    def truncate(self, ids: list[int]) -> list[int]:
        return ids[: self.max_seq_length]  # unbounded unless max_seq_length is asked for

    def collate(self, batch: Sequence[list[int]], device: torch.device) -> dict[str, torch.Tensor]:
        lengths = torch.tensor([0] + [len(ids) for ids in batch[:-1]], dtype=torch.long)
        flat = torch.tensor([token for ids in batch for token in ids], dtype=torch.long)
        return {"input_ids": flat.to(device), "offsets": torch.cumsum(lengths, 0).to(device)}

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        features["sentence_embedding"] = self.embedding(features["input_ids"], features["offsets"]).float()
        return features

    def save(self, folder: str | Path) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.static_tokenizer.save(str(folder / "tokenizer.json"))
        save_file(
            {"embedding.weight": self.embedding.weight.detach().float().contiguous()}, str(folder / "model.safetensors")
        )


class _TokenizerView:
    """The few tokenizer calls the encode loop makes, on a ``tokenizers.Tokenizer``."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self.pad_token_id = 0
        self.all_special_ids: list[int] = []

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 0

    def __len__(self) -> int:
        return int(self._tokenizer.get_vocab_size())

    def __call__(self, texts: Any, **_: Any) -> dict[str, Any]:
        encoded = self._tokenizer.encode_batch(
            list(texts) if not isinstance(texts, str) else [texts], add_special_tokens=False
        )
        return {"input_ids": [e.ids for e in encoded], "offset_mapping": [e.offsets for e in encoded]}
