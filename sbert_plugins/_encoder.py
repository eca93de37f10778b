"""SentenceEncoder: the one SBERT encoder every host uses."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from ._errors import ConfigError
from ._loading import DEFAULT_MODEL, folder_fingerprint, load_modules, resolve_model
from ._validation import validate_texts
from .models import Normalize, Pooling, Transformer

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
          "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
LONG_TEXT_POLICIES = ("warn", "error", "chunk")
_PROGRESS_MIN = 2000


def _device(device: Optional[str]) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device {device!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:0'") from exc


def check_dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise ConfigError(f"dtype {dtype!r} is not supported; choose one of {sorted(DTYPES)}")
    return DTYPES[dtype]


def check_long_texts(policy: str) -> str:
    if policy not in LONG_TEXT_POLICIES:
        raise ConfigError(f"long_texts={policy!r} is not a policy; choose one of {LONG_TEXT_POLICIES}")
    return policy


class SentenceEncoder(nn.Sequential):
    """Transformer -> Pooling -> [Dense] -> [Normalize], loaded offline.

    ``model`` is a folder (sentence-transformers format or a plain transformers
    checkpoint) or a name a plugin resolves (``"all-MiniLM-L6-v2"`` is built in).
    ``pooling`` / ``normalize`` override what the folder says. ``long_texts``
    decides what happens to texts longer than ``max_seq_length`` tokens:
    ``"warn"`` (truncate and warn with a count), ``"error"``, or ``"chunk"``
    (embed chunks from ``chunker`` and average them).
    """

    def __init__(self, model: Union[str, Path, None] = DEFAULT_MODEL, *,
                 modules: Optional[Sequence[nn.Module]] = None, device: Optional[str] = None,
                 dtype: str = "float32", max_seq_length: Optional[int] = None,
                 pooling: Union[str, Sequence[str], None] = None, normalize: Optional[bool] = None,
                 long_texts: str = "warn", chunker: str = "sentences") -> None:
        folder = None
        if modules is None:
            folder = resolve_model(model if model is not None else DEFAULT_MODEL)
            modules = load_modules(folder, max_seq_length)
        modules = list(modules)
        super().__init__(*modules)
        self.name = str(model) if model is not None else "custom"
        self.folder = folder
        self.long_texts = check_long_texts(long_texts)
        self.chunker = chunker
        self._fingerprint: Optional[str] = None
        if pooling is not None:
            self._replace_pooling(pooling)
        if normalize is not None:
            self._set_normalize(bool(normalize))
        if max_seq_length is not None:
            self.transformer.max_seq_length = int(max_seq_length)
        self.dtype_name = dtype
        torch_dtype = check_dtype(dtype)
        self.to(_device(device))
        if torch_dtype != torch.float32 and self.device.type == "cpu":
            from ._cpu import prepare_bf16_cpu

            prepare_bf16_cpu()
        self.transformer.auto_model.to(torch_dtype)
        self.eval()

    # -- structure ---------------------------------------------------------
    @property
    def transformer(self) -> Transformer:
        return self[0]

    @property
    def pooling(self) -> Pooling:
        return next(m for m in self if isinstance(m, Pooling))

    @property
    def normalize(self) -> bool:
        return isinstance(self[-1], Normalize)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def max_seq_length(self) -> int:
        return self.transformer.max_seq_length

    @property
    def tokenizer(self):
        return self.transformer.tokenizer

    @property
    def dimension(self) -> int:
        dim = self.pooling.output_dimension
        for module in self:
            dim = getattr(module, "out_features", dim)
        return dim

    def _replace_pooling(self, modes: Union[str, Sequence[str]]) -> None:
        index = next(i for i, m in enumerate(self) if isinstance(m, Pooling))
        self[index] = Pooling(self.transformer.dimension, modes)
        self._fingerprint = None

    def _set_normalize(self, on: bool) -> None:
        if on and not self.normalize:
            self.append(Normalize())
        elif not on and self.normalize:
            del self[len(self) - 1]

    # -- identity ----------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """Short sha256 of the weights and configs: same value <=> same embeddings space."""
        if self._fingerprint is None:
            if self.folder is not None:
                self._fingerprint = folder_fingerprint(self.folder)
            else:
                digest = hashlib.sha256()
                for key, tensor in self.state_dict().items():
                    digest.update(key.encode())
                    digest.update(tensor.detach().float().cpu().numpy().tobytes())
                self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def mark_modified(self) -> None:
        """Call after changing weights (training) so the fingerprint is recomputed."""
        self.folder, self._fingerprint = None, None

    def contract(self) -> Dict[str, Any]:
        """What a stored vector depends on; vector stores check it before use."""
        return {"model": self.name, "fingerprint": self.fingerprint, "dims": self.dimension,
                "pooling": "+".join(self.pooling.modes), "normalize": self.normalize,
                "max_seq_length": self.max_seq_length}

    # -- encoding ----------------------------------------------------------
    def encode(self, texts: Union[str, Iterable[str]], batch_size: int = 64, *,
               normalize: bool = False, convert_to: str = "numpy",
               show_progress_bar: Optional[bool] = None, long_texts: Optional[str] = None,
               allow_empty: bool = False) -> Union[np.ndarray, torch.Tensor]:
        """Embed texts; returns ``(n, dimension)`` float32 in input order (``(dimension,)`` for one str).

        ``normalize=True`` L2-normalises even if the model has no Normalize module.
        An empty list gives an empty ``(0, dimension)`` array.
        """
        if convert_to not in ("numpy", "torch"):
            raise ConfigError(f"convert_to={convert_to!r}; use 'numpy' or 'torch'")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}")
        single = isinstance(texts, str)
        items = validate_texts(texts, allow_empty=allow_empty)
        policy = check_long_texts(long_texts or self.long_texts)
        if items:
            from ._batching import embed_texts

            out = embed_texts(self, items, batch_size, policy, self._progress(show_progress_bar, items))
        else:
            out = torch.empty((0, self.dimension), dtype=torch.float32)
        if normalize and not self.normalize:
            out = nn.functional.normalize(out, p=2, dim=-1)
        if single:
            out = out[0]
        return out.numpy() if convert_to == "numpy" else out

    @staticmethod
    def _progress(flag: Optional[bool], items: List[str]) -> bool:
        if flag is None:
            return len(items) >= _PROGRESS_MIN and sys.stderr.isatty()
        return bool(flag)

    def forward_features(self, features: dict) -> dict:
        """Run all modules on tokenized features (training uses this with grad)."""
        for module in self:
            features = module(features)
        return features

    # -- persistence -------------------------------------------------------
    def save(self, folder: Union[str, Path]) -> Path:
        """Write a sentence-transformers-compatible folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        spec = []
        for idx, module in enumerate(self):
            kind = type(module).__name__
            path = "" if idx == 0 else f"{idx}_{kind}"
            module.save(folder / path if path else folder)
            spec.append({"idx": idx, "name": str(idx), "path": path,
                         "type": f"sentence_transformers.models.{kind}"})
        (folder / "modules.json").write_text(json.dumps(spec, indent=2))
        (folder / "config_sentence_transformers.json").write_text(json.dumps(
            {"__version__": {"sbert_plugins": _version()}, "similarity_fn_name": "cosine"}, indent=2))
        return folder

    def __repr__(self) -> str:
        return (f"SentenceEncoder(model={self.name!r}, dims={self.dimension}, pooling={self.pooling.modes}, "
                f"normalize={self.normalize}, max_seq_length={self.max_seq_length}, "
                f"dtype={self.dtype_name!r}, device={str(self.device)!r})")


def _version() -> str:
    from . import __version__

    return __version__

