"""One vocabulary for the encode options that every host shares.

Each option is defined once here (name, default, meaning, validation), with no
torch import, so that the encoder, the spaCy config, the scikit-learn parameters,
the Spark params and the CLI flags have the same defaults and the same errors.
Values are checked by name and value only; whether a pooling or chunker name is
registered, or a CUDA device exists, is checked where the model loads.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"

# accepted spellings -> canonical dtype name
DTYPES = {
    "auto": "auto",
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}
LONG_TEXT_POLICIES = ("warn", "error", "chunk")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _fail(name: str, value: Any, fix: str) -> ConfigError:
    return ConfigError(f"{name}={value!r}: {fix}")


def _is_int(value: Any) -> bool:
    # numpy ints are Integral; bool is too, but batch_size=True is a mistake, not 1
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_model(value: Any) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise _fail("model", value, f"give a packaged or plugin model name (e.g. {DEFAULT_MODEL!r}) or a folder")
    return value


def check_pooling(value: Any) -> str | tuple[str, ...] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) and n for n in names):
        raise _fail("pooling", value, "use None (the model's own), a mode name such as 'mean', or a list of names")
    if isinstance(value, str):
        return value
    return tuple(names)


def check_normalize(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise _fail("normalize", value, "use True, False or None (the model's own setting)")
    return value


def check_batch_size(value: Any) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or int(value) < 1:
        raise _fail("batch_size", value, "use a positive int such as 64, or None to choose for the device")
    return int(value)


def check_dtype(value: Any) -> str:
    if value is None:
        return "auto"
    if not isinstance(value, str) or value.lower() not in DTYPES:
        raise _fail("dtype", value, f"choose one of {sorted(DTYPES)}")
    return DTYPES[value.lower()]


def check_device(value: Any) -> str:
    if value is None:
        return "auto"
    if not isinstance(value, str) or not _DEVICE.match(value.strip().lower()):
        raise _fail("device", value, "use 'auto', 'cpu', 'cuda', 'cuda:0' or 'mps'")
    return value.strip().lower()


def check_long_texts(value: Any) -> str:
    if value not in LONG_TEXT_POLICIES:
        raise _fail("long_texts", value, f"choose one of {LONG_TEXT_POLICIES}")
    return str(value)


def check_chunker(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("chunker", value, "name a registered chunker such as 'sentences' or 'tokens'")
    return value


def check_max_seq_length(value: Any) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or int(value) < 2:
        raise _fail("max_seq_length", value, "use None (the model's own) or an int >= 2 (tokens)")
    return int(value)


@dataclass(frozen=True)
class Option:
    """One encode option: its default, what it means, and its check."""

    name: str
    default: Any
    help: str
    check: Callable[[Any], Any]


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("model", DEFAULT_MODEL, "a packaged or plugin model name, or a local folder", check_model),
        Option(
            "pooling", None, "None = the model's own; or mean, max, cls, mean_sqrt_len, plugin modes", check_pooling
        ),
        Option(
            "normalize", None, "None = the model's own; True/False forces unit-length vectors on/off", check_normalize
        ),
        Option("batch_size", None, "texts per forward pass; None = 64 on CPU, 256 on CUDA", check_batch_size),
        Option("dtype", "auto", "auto (fastest native precision), float32, bfloat16, float16", check_dtype),
        Option("device", "auto", "auto (CUDA if present, else CPU), cpu, cuda, cuda:N, mps", check_device),
        Option(
            "long_texts",
            "warn",
            "over max_seq_length: warn (truncate + LongTextWarning), error, chunk",
            check_long_texts,
        ),
        Option(
            "chunker", "sentences", "how long_texts='chunk' splits: sentences, tokens, plugin chunkers", check_chunker
        ),
        Option("max_seq_length", None, "None = the model's own limit (tokens)", check_max_seq_length),
    )
}


@dataclass(frozen=True)
class EncodeOptions:
    """A validated set of encode options; build it with keywords, every field has the shared default."""

    model: str = DEFAULT_MODEL
    pooling: str | tuple[str, ...] | None = None
    normalize: bool | None = None
    batch_size: int | None = None
    dtype: str = "auto"
    device: str = "auto"
    long_texts: str = "warn"
    chunker: str = "sentences"
    max_seq_length: int | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            object.__setattr__(self, field.name, OPTIONS[field.name].check(getattr(self, field.name)))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "") -> EncodeOptions:
        """Options from a config mapping; errors are prefixed with ``where`` (e.g. 'sbert component config')."""
        unknown = sorted(set(values) - set(OPTIONS))
        try:
            if unknown:
                raise ConfigError(f"unknown option(s) {unknown}; known: {sorted(OPTIONS)}")
            return cls(**values)
        except ConfigError as exc:
            if not where:
                raise
            raise ConfigError(f"{where}: {exc}") from None

    def encoder_kwargs(self) -> dict[str, Any]:
        """Keywords for :class:`SentenceEncoder` / ``shared_encoder`` (everything but ``model``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}


def option_defaults() -> dict[str, Any]:
    """``{name: default}`` of every encode option (hosts build their config defaults from this)."""
    return {name: option.default for name, option in OPTIONS.items()}
