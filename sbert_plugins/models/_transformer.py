"""The token encoder: a Hugging Face transformer plus its tokenizer."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._bert import BertEncoder
from ._compiled import compile_inference, runs_compiled
from ._fast_tokenizer import IDS_ONLY

ST_CONFIG = "sentence_bert_config.json"
_LENGTH_WARNING = "Token indices sequence length is longer than the specified maximum"
_filter_lock = threading.Lock()


class _DropLengthWarning(logging.Filter):
    """The tokenizer warns about sequences over model_max_length; we count and report them ourselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _LENGTH_WARNING not in record.getMessage()


def _quiet_length_warning() -> None:
    # Installed once (not a per-call level flip, which is global state and not thread-safe).
    logger = logging.getLogger("transformers.tokenization_utils_base")
    with _filter_lock:
        if not any(isinstance(f, _DropLengthWarning) for f in logger.filters):
            logger.addFilter(_DropLengthWarning())


@contextlib.contextmanager
def hf_progress_bars_off() -> Iterator[None]:
    """Hugging Face's per-file progress bars off while loading or saving local files, restored after."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


class Transformer(nn.Module):
    """Wraps a transformers model + tokenizer; fills ``features['token_embeddings']`` (float32)."""

    compiled = False  # compile_model() turns it on (for models other than the plain BERT encoder)
    _compiled_forward: Callable[..., Any] | None = None

    def __init__(
        self, model: nn.Module, tokenizer: Any, max_seq_length: int | None = None, do_lower_case: bool = False
    ) -> None:
        super().__init__()
        self.auto_model: Any = model  # a transformers PreTrainedModel
        self.tokenizer = tokenizer
        limit = int(getattr(model.config, "max_position_embeddings", 512))
        # RoBERTa-style models reserve position ids for padding; stay safely inside.
        self.max_seq_length = int(max_seq_length or min(limit, tokenizer.model_max_length or limit, 512))
        self.do_lower_case = do_lower_case
        self._wants_token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", [])
        _quiet_length_warning()

    @property
    def dimension(self) -> int:
        return int(self.auto_model.config.hidden_size)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        with hf_progress_bars_off():
            self.auto_model.save_pretrained(str(folder))
            self.tokenizer.save_pretrained(str(folder))
        config = {"max_seq_length": self.max_seq_length, "do_lower_case": self.do_lower_case}
        (folder / ST_CONFIG).write_text(json.dumps(config, indent=2))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with special tokens and *without* truncation (so lengths are true)."""
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        encoded = self.tokenizer(
            list(texts),
            add_special_tokens=True,
            truncation=False,
            padding=False,
            **IDS_ONLY,
        )
        return list(encoded["input_ids"])

    def prompt_length(self, prompt: str) -> int:
        """How many leading tokens of ``prompt + text`` are the prompt's (sentence-transformers' rule: the
        prompt tokenized alone, special tokens included, less a closing special token)."""
        ids = self.token_ids([prompt])[0]
        closing = bool(ids) and ids[-1] in set(getattr(self.tokenizer, "all_special_ids", []))
        return len(ids) - 1 if closing else len(ids)

    def truncate(self, ids: list[int]) -> list[int]:
        """Cut ids to max_seq_length keeping the closing special token(s) (``[SEP]``, ``</s>``, an EOS)."""
        if len(ids) <= self.max_seq_length:
            return ids
        tail = self._closing_specials()
        return ids[: self.max_seq_length - tail] + (ids[-tail:] if tail else [])

    def _closing_specials(self) -> int:
        """How many special tokens the tokenizer appends (1 for ``[CLS] x [SEP]`` and for ``x <eos>``)."""
        if getattr(self, "_tail", None) is None:
            with_specials = self.token_ids(["a"])[0]
            plain = list(self.tokenizer("a", add_special_tokens=False, **IDS_ONLY)["input_ids"])
            start = next((i for i in range(len(with_specials)) if with_specials[i : i + len(plain)] == plain), None)
            added = self.tokenizer.num_special_tokens_to_add(pair=False)
            self._tail = max(added - 1, 0) if start is None else len(with_specials) - start - len(plain)
        return int(self._tail)

    def collate(self, batch: Sequence[list[int]], device: torch.device) -> dict[str, torch.Tensor]:
        """Pad a batch of id lists into model inputs (padding on the right).

        On CUDA the host tensors are pinned and copied without blocking, so the
        next batch is prepared while the GPU works on this one.
        """
        width = max(len(ids) for ids in batch)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = np.full((len(batch), width), pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        features = {"input_ids": _to_device(input_ids, device), "attention_mask": _to_device(mask, device)}
        if self._wants_token_types:
            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        return features

    def tokenize(self, texts: Sequence[str], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Tokenize with truncation to max_seq_length (used by training)."""
        ids = [self.truncate(i) for i in self.token_ids(texts)]
        return self.collate(ids, torch.device(device))

    def compile_model(self, on: bool = True, package: bool = False) -> None:
        """Run inference through the compiled model, or not (``_compiled.py``): the plain BERT encoder
        compiles its layer stack (ahead of time into a package, with ``package``, on CPU), any other model
        its whole forward, with ``torch.compile``."""
        if isinstance(self.auto_model, BertEncoder):
            self.auto_model.compile_layers(on, package)
        else:
            self.compiled, self._compiled_forward = on, None

    def _model_call(self, batch: int) -> Callable[..., Any]:
        if not (self.compiled and runs_compiled(self.training, batch)):
            return self.auto_model
        if self._compiled_forward is None:
            self._compiled_forward = compile_inference(self.auto_model.forward)
        return self._compiled_forward

    def __getstate__(self) -> dict[str, Any]:
        # a compiled function belongs to this object's model: a copy or an unpickled one compiles its own
        return {**super().__getstate__(), "_compiled_forward": None}

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
        output = self._model_call(len(inputs["input_ids"]))(**inputs, return_dict=True)
        # Pool in float32 even when the transformer runs in bf16/fp16: sums over
        # hundreds of tokens lose too much precision in 16 bits.
        features["token_embeddings"] = output.last_hidden_state.float()
        return features


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(array)
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor if device.type == "cpu" else tensor.to(device)
