"""The token encoder: a Hugging Face transformer plus its tokenizer."""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import List, Sequence

import numpy as np
import torch
from torch import nn

from .._errors import ModelLoadError
from .._files import read_json

_ST_CONFIG = "sentence_bert_config.json"


@contextmanager
def _quiet_loading():
    """Hide transformers' per-load progress bar; restore the user's setting after."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


class Transformer(nn.Module):
    """Wraps ``AutoModel`` + ``AutoTokenizer``; fills ``features['token_embeddings']``."""

    def __init__(self, model: nn.Module, tokenizer, max_seq_length: int | None = None,
                 do_lower_case: bool = False) -> None:
        super().__init__()
        self.auto_model = model
        self.tokenizer = tokenizer
        limit = getattr(model.config, "max_position_embeddings", 512)
        # RoBERTa-style models reserve position ids for padding; stay safely inside.
        self.max_seq_length = int(max_seq_length or min(limit, tokenizer.model_max_length or limit, 512))
        self.do_lower_case = do_lower_case
        self._wants_token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", [])

    @property
    def dimension(self) -> int:
        return int(self.auto_model.config.hidden_size)

    @classmethod
    def load(cls, folder: str | Path, max_seq_length: int | None = None) -> "Transformer":
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{folder} has no config.json: not a transformers checkpoint")
        read_json(folder / "config.json")  # clear error for a corrupt file
        st_config = read_json(folder / _ST_CONFIG) if (folder / _ST_CONFIG).is_file() else {}
        try:
            with _quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load the transformer in {folder}: {exc}") from exc
        return cls(model, tokenizer,
                   max_seq_length=max_seq_length or st_config.get("max_seq_length"),
                   do_lower_case=bool(st_config.get("do_lower_case", False)))

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        with _quiet_loading():
            self.auto_model.save_pretrained(str(folder))
            self.tokenizer.save_pretrained(str(folder))
        config = {"max_seq_length": self.max_seq_length, "do_lower_case": self.do_lower_case}
        (folder / _ST_CONFIG).write_text(json.dumps(config, indent=2))

    def token_ids(self, texts: Sequence[str]) -> List[List[int]]:
        """Token ids with special tokens and *without* truncation (so lengths are true)."""
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        # The tokenizer warns about lengths over model_max_length; we report that ourselves.
        logger = logging.getLogger("transformers.tokenization_utils_base")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            return self.tokenizer(list(texts), add_special_tokens=True, truncation=False,
                                  padding=False, return_attention_mask=False,
                                  return_token_type_ids=False)["input_ids"]
        finally:
            logger.setLevel(level)

    def truncate(self, ids: List[int]) -> List[int]:
        """Cut ids to max_seq_length keeping the closing special token(s)."""
        if len(ids) <= self.max_seq_length:
            return ids
        tail = self.tokenizer.num_special_tokens_to_add(pair=False) - 1
        keep = self.max_seq_length - max(tail, 0)
        return ids[:keep] + (ids[-tail:] if tail > 0 else [])

    def collate(self, batch: Sequence[List[int]], device: torch.device) -> dict:
        """Pad a batch of id lists into model inputs (padding on the right)."""
        width = max(len(ids) for ids in batch)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = np.full((len(batch), width), pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        features = {"input_ids": torch.from_numpy(input_ids).to(device),
                    "attention_mask": torch.from_numpy(mask).to(device)}
        if self._wants_token_types:
            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        return features

    def tokenize(self, texts: Sequence[str], device: torch.device | str = "cpu") -> dict:
        """Tokenize with truncation to max_seq_length (used by training)."""
        ids = [self.truncate(i) for i in self.token_ids(texts)]
        return self.collate(ids, torch.device(device))

    def forward(self, features: dict) -> dict:
        inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
        output = self.auto_model(**inputs, return_dict=True)
        # Pool in float32 even when the transformer runs in bf16: sums over
        # hundreds of tokens lose too much precision in bf16.
        features["token_embeddings"] = output.last_hidden_state.float()
        return features
