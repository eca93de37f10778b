"""SentenceEncoder: the one SBERT encoder every host uses."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._base.errors import ConfigError, ModelLoadError
from .._base.options import DEFAULT_MODEL, EncodeOptions, check_batch_size, check_long_texts, takes_encode_options
from .._base.quantization import PRECISIONS, quantize_embeddings
from .._base.validation import validate_texts
from .._base.version import __version__
from .._loading.folders import folder_fingerprint, load_modules
from .._loading.names import resolve_model
from .._loading.plugin_functions import Chunker, chunker_function, make_pooling
from .._loading.st_config import read_model_settings
from ..models import BertEncoder, Normalize, Pooling, StaticEmbedding, Transformer, use_onednn_linear
from .encode_loop import embed_ids, embed_texts
from .precision import TORCH_DTYPES, linear_kernel, resolve_device, resolve_dtype

_PROGRESS_MIN = 2000
_DEFAULT_BATCH = {"cuda": 256, "cpu": 64}


class SentenceEncoder(nn.Sequential):
    """Transformer -> Pooling -> [Dense] -> [Normalize], loaded offline.

    ``model`` is a name (packaged or added by a plugin) or a folder (sentence-transformers
    format or a plain transformers checkpoint); see ``resolve_model`` for the rule.
    Every other keyword is an encode option with the shared default (``EncodeOptions``):
    ``pooling`` / ``normalize`` override the folder's, ``long_texts`` decides what happens
    to texts over ``max_seq_length`` tokens (``warn``, ``error``, ``chunk`` with ``chunker``),
    ``dtype`` / ``device`` / ``batch_size`` default to what suits the hardware.
    """

    @takes_encode_options  # the option keywords come from EncodeOptions (one place for every host)
    def __init__(
        self,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        *,
        modules: Sequence[nn.Module] | None = None,
        cache_folder: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        name = os.fspath(model) if modules is None else "custom"
        encode = EncodeOptions.from_mapping({**options, "model": name}, where="SentenceEncoder")
        folder = None
        if modules is None:
            folder = resolve_model(model, encode.revision, cache_folder)
            modules = load_modules(folder, encode.max_seq_length)
        super().__init__(*modules)
        self.options = encode
        self.name = str(model) if folder is not None else "custom"
        self.folder = folder
        self.shared = False  # set by shared_encoder(): other hosts hold this object
        self._fingerprint: str | None = None
        self._chunker: Chunker | None = None
        settings = read_model_settings(folder)
        self.prompts, self.default_prompt_name = settings.prompts, settings.default_prompt_name
        self.similarity_fn_name = settings.similarity_fn_name
        self._configure(encode)
        self.truncate_dim = self._truncation(encode.truncate_dim, settings.truncate_dim)

    def _configure(self, options: EncodeOptions) -> None:
        if options.pooling is not None:
            index = next((i for i, m in enumerate(self) if isinstance(m, Pooling)), None)
            if index is None:
                raise ConfigError(
                    f"pooling={options.pooling!r}, but model {self.name!r} has no Pooling module to replace"
                )
            self[index] = make_pooling(self.transformer.dimension, options.pooling)
        if options.normalize is not None:
            self._set_normalize(options.normalize)
        if options.max_seq_length is not None:
            self.transformer.max_seq_length = options.max_seq_length
        target = resolve_device(options.device)
        self.to(target)
        self.set_dtype(resolve_dtype(options.dtype, target))
        if target.type == "cpu" and linear_kernel() == "onednn":
            # float32 inference through oneDNN where it is measured faster; each call checks its dtype, so
            # a later set_dtype (fit's float32 master weights, a bf16 encoder made float32) is covered too
            use_onednn_linear(self)
        self.batch_size = options.batch_size or _DEFAULT_BATCH.get(target.type, 64)
        self.long_texts = options.long_texts
        self.chunker = options.chunker
        self.eval()
        if options.compile:
            self._recompile()  # set_dtype above did so too; said here, where the option is applied
            # compile now, on two short texts (one graph serves every batch of two or more): the wait and
            # any compiler error come with the load, not inside a caller's first large encode
            embed_ids(self, self.transformer.token_ids(["compile", "warm up"]), 2, False)

    def _package_allowed(self) -> bool:
        """Whether the layers may be compiled ahead of time into a package (``models/_compiled.py``): on CPU,
        for a plain BERT encoder with its weights as loaded from a folder (``mark_modified`` ends it, so
        training and its evaluations compile in the process instead of building a package per change)."""
        return (
            self.folder is not None
            and self.device.type == "cpu"
            and isinstance(self.transformer.auto_model, BertEncoder)
        )

    def _recompile(self) -> None:
        """After a change of weights or dtype: a compiled encoder compiles again, from its new package."""
        if self.options.compile:  # a StaticEmbedding refuses (at load: set_dtype comes here first)
            self.transformer.compile_model(True, self._package_allowed())

    # -- structure ---------------------------------------------------------
    @property
    def transformer(self) -> Transformer:
        module = self[0]
        assert isinstance(module, Transformer)
        return module

    @property
    def pooling(self) -> Pooling | None:
        """The Pooling module (None for a StaticEmbedding model, which pools by itself)."""
        return next((m for m in self if isinstance(m, Pooling)), None)

    @property
    def pooling_modes(self) -> list[str]:
        return self.pooling.modes if self.pooling is not None else ["static"]

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
    def tokenizer(self) -> Any:
        return self.transformer.tokenizer

    @property
    def full_dimension(self) -> int:
        """The width of the last module's output, before any ``truncate_dim``."""
        dim = self.pooling.output_dimension if self.pooling is not None else self.transformer.dimension
        for module in self:
            dim = getattr(module, "out_features", dim)
        return int(dim)

    @property
    def dimension(self) -> int:
        """The width of the vectors ``encode`` returns (``truncate_dim`` applied)."""
        return min(self.full_dimension, self.truncate_dim or self.full_dimension)

    def _truncation(self, asked: int | None, declared: int | None) -> int | None:
        if asked is not None and asked > self.full_dimension:
            raise ConfigError(
                f"truncate_dim={asked} exceeds the model's {self.full_dimension} dimensions; use at most that"
            )
        if asked is None and declared is not None and declared > self.full_dimension:
            raise ModelLoadError(
                f"{self.folder}: config_sentence_transformers.json declares truncate_dim={declared}, more than the "
                f"model's {self.full_dimension} dimensions"
            )
        return asked or declared

    def set_dtype(self, dtype: str) -> None:
        """Hold the transformer's weights in ``dtype`` (a resolved name: float32, bfloat16, float16).

        Pooling and the heads compute in float32 either way. ``fit`` uses this to train float32
        master weights of an encoder whose ``dtype="auto"`` chose 16 bits, and to give them back."""
        if isinstance(self.transformer, StaticEmbedding):
            dtype = "float32"  # a table is looked up and averaged, not multiplied: 16 bits would only lose digits
        self.transformer.auto_model.to(TORCH_DTYPES[dtype])
        self.dtype_name = dtype
        self._recompile()

    def _set_normalize(self, on: bool) -> None:
        if on and not self.normalize:
            self.append(Normalize())
        elif not on and self.normalize:
            del self[len(self) - 1]

    def copy(self) -> SentenceEncoder:
        """An independent copy (same weights, not shared), e.g. to fine-tune without touching other hosts."""
        twin = copy.deepcopy(self)
        twin.shared = False
        return twin

    # -- identity ----------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """Short sha256 of the weights and configs: same value <=> same embedding space."""
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

    @property
    def revision(self) -> str | None:
        """The Hub commit sha of the weights, when they came from the Hugging Face cache."""
        folder = self.folder
        return folder.name if folder is not None and folder.parent.name == "snapshots" else None

    def mark_modified(self) -> None:
        """Call after changing weights (training) so the fingerprint is recomputed (and a compiled encoder
        compiles the changed weights, not a package of the old ones)."""
        self.folder, self._fingerprint = None, None
        self._recompile()

    def contract(self) -> dict[str, Any]:
        """What a stored vector depends on; vector stores check it before use."""
        return {
            "model": self.name,
            "fingerprint": self.fingerprint,
            "dims": self.dimension,
            "pooling": "+".join(self.pooling_modes),
            "normalize": self.normalize,
            "max_seq_length": self.max_seq_length,
            "prompts": dict(self.prompts),
            "revision": self.revision,  # the Hub commit the weights came from (None for local folders)
            # informative only (stores do not compare it): bf16 and fp32 vectors of one model are
            # interchangeable for search (min cosine 0.9998 measured), but an index should say which built it
            "dtype": self.dtype_name,
        }

    # -- encoding ----------------------------------------------------------
    def _prefix(self, prompt_name: str | None, prompt: str | None) -> str:
        if prompt is not None and prompt_name is not None:
            raise ConfigError("give prompt= or prompt_name=, not both")
        if prompt is not None:
            return prompt
        name = prompt_name or self.default_prompt_name
        if name is None:
            return ""
        if name not in self.prompts:
            raise ConfigError(
                f"prompt_name={name!r} is not declared by model {self.name!r}; it has {sorted(self.prompts)}"
            )
        return self.prompts[name]

    def chunker_fn(self) -> Chunker:
        if self._chunker is None:
            self._chunker = chunker_function(self.chunker)
        return self._chunker

    def encode(
        self,
        texts: str | Iterable[str],
        batch_size: int | None = None,
        *,
        normalize: bool = False,
        convert_to: str = "numpy",
        show_progress_bar: bool | None = None,
        long_texts: str | None = None,
        allow_empty: bool = False,
        unicode_errors: str = "strict",
        prompt_name: str | None = None,
        prompt: str | None = None,
        precision: str = "float32",
    ) -> Any:
        """Embed texts: ``(n, dimension)`` float32 in input order (``(dimension,)`` for one str).

        ``convert_to='numpy'`` gives a numpy array; ``'torch'`` a tensor on the encoder's
        device (so similarity search can stay on the GPU). ``precision`` = ``int8`` / ``uint8`` / ``binary`` /
        ``ubinary`` quantizes the result as ``quantize_embeddings`` does, calibrated on these embeddings
        (for a stable calibration, encode in float32 and quantize with ranges from a larger set).
        ``normalize=True`` L2-normalises
        even if the model has no Normalize module. ``prompt_name`` picks a prompt the model
        declares (its ``default_prompt_name`` applies otherwise); ``prompt`` gives one directly.
        """
        if convert_to not in ("numpy", "torch"):
            raise ConfigError(f"convert_to={convert_to!r}; use 'numpy' or 'torch'")
        if precision not in PRECISIONS:  # before any work, not after the whole batch is encoded
            raise ConfigError(f"precision={precision!r}: choose one of {PRECISIONS}")
        size = check_batch_size(batch_size) or self.batch_size
        policy = check_long_texts(long_texts) if long_texts is not None else self.long_texts
        single = isinstance(texts, str)
        items = validate_texts(texts, allow_empty=allow_empty, unicode_errors=unicode_errors)
        prefix = self._prefix(prompt_name, prompt)
        if prefix:
            items = [prefix + t for t in items]
        if items:
            chunker = self.chunker_fn() if policy == "chunk" else None
            progress = self._progress(show_progress_bar, items)
            excluded = self.pooling is not None and not self.pooling.include_prompt
            skip = self.transformer.prompt_length(prefix) if prefix and excluded else 0
            out = embed_texts(self, items, size, policy, chunker, progress, skip)
        else:
            out = torch.empty((0, self.dimension), dtype=torch.float32, device=self.device)
        if self.truncate_dim is not None:  # after every module, Normalize included, as sentence-transformers
            out = out[:, : self.truncate_dim]
        if normalize and (not self.normalize or self.truncate_dim is not None):
            out = nn.functional.normalize(out, p=2, dim=-1)
        if precision != "float32":
            quantized = torch.from_numpy(quantize_embeddings(out, precision))
            out = quantized.to(out.device) if convert_to == "torch" else quantized
        if single:
            out = out[0]
        return out.cpu().numpy() if convert_to == "numpy" else out

    @staticmethod
    def _progress(flag: bool | None, items: list[str]) -> bool:
        if flag is None:
            return len(items) >= _PROGRESS_MIN and sys.stderr.isatty()
        return bool(flag)

    def forward_features(self, features: dict[str, Any]) -> dict[str, Any]:
        """Run all modules on tokenized features (training uses this with grad)."""
        for module in self:
            features = module(features)
        return features

    # -- persistence -------------------------------------------------------
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write a sentence-transformers-compatible folder (safetensors weights)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        spec = []
        for idx, module in enumerate(self):
            kind = type(module).__name__
            path = "" if idx == 0 else f"{idx}_{kind}"
            module.save(folder / path if path else folder)  # type: ignore[operator]
            spec.append({"idx": idx, "name": str(idx), "path": path, "type": f"sentence_transformers.models.{kind}"})
        (folder / "modules.json").write_text(json.dumps(spec, indent=2))
        config: dict[str, Any] = {"__version__": {"sbert_plugins": __version__}}
        config["similarity_fn_name"] = self.similarity_fn_name
        if self.truncate_dim is not None:
            config["truncate_dim"] = self.truncate_dim
        if self.prompts:
            config.update(prompts=self.prompts, default_prompt_name=self.default_prompt_name)
        (folder / "config_sentence_transformers.json").write_text(json.dumps(config, indent=2))
        return folder

    def __repr__(self) -> str:
        return (
            f"SentenceEncoder(model={self.name!r}, dims={self.dimension}, pooling={self.pooling_modes}, "
            f"normalize={self.normalize}, max_seq_length={self.max_seq_length}, dtype={self.dtype_name!r}, "
            f"device={str(self.device)!r})"
        )
