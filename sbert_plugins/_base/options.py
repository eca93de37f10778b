"""One vocabulary for the encode options that every host shares.

Each option is defined once here (name, default, meaning, validation), with no
torch import, so that the encoder, the spaCy config, the scikit-learn parameters,
the Spark params and the CLI flags have the same defaults and the same errors.
Values are checked by name and value only; whether a pooling or chunker name is
registered, or a CUDA device exists, is checked where the model loads.
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

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


def _optional_int(name: str, value: Any, minimum: int, fix: str) -> int | None:
    """None, or an int >= ``minimum`` (numpy ints too; a bool is a mistake, not 0 or 1)."""
    if value is None:
        return None
    if not _is_int(value) or int(value) < minimum:
        raise _fail(name, value, fix)
    return int(value)


def check_batch_size(value: Any) -> int | None:
    return _optional_int("batch_size", value, 1, "use a positive int such as 64, or None to choose for the device")


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


def check_revision(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise _fail("revision", value, "use None (the default branch) or a Hub branch, tag or commit sha")
    return value


def check_compile(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail("compile", value, "use True (torch.compile the model for inference) or False")
    return value


def check_truncate_dim(value: Any) -> int | None:
    return _optional_int("truncate_dim", value, 1, "use None (the model's own) or an int >= 1 (dimensions to keep)")


def check_max_seq_length(value: Any) -> int | None:
    return _optional_int("max_seq_length", value, 2, "use None (the model's own) or an int >= 2 (tokens)")


@dataclass(frozen=True)
class Option:
    """One encode option: its default, what it means, and its check."""

    name: str
    default: Any
    help: str
    check: Callable[[Any], Any]


def _option(default: Any, help: str, check: Callable[[Any], Any]) -> Any:
    return field(default=default, metadata={"help": help, "check": check})


@dataclass(frozen=True)
class EncodeOptions:
    """A validated set of encode options; build it with keywords, every field has the shared default.

    This class is the one place an option is declared: its field gives the name, default, help text
    and check, and ``OPTIONS``, every host's parameters (``takes_encode_options``), the Spark params
    and the CLI flags are derived from it. A new option is one field here."""

    model: str = _option(DEFAULT_MODEL, "a packaged or plugin model name, or a local folder", check_model)
    pooling: str | tuple[str, ...] | None = _option(
        None, "None = the model's own; or mean, max, cls, mean_sqrt_len, plugin modes", check_pooling
    )
    normalize: bool | None = _option(
        None, "None = the model's own; True/False forces unit-length vectors on/off", check_normalize
    )
    batch_size: int | None = _option(
        None,
        "most texts per forward pass (CPU: also <= 1,024 padded tokens); None = 64 on CPU, 256 on CUDA",
        check_batch_size,
    )
    dtype: str = _option("auto", "auto (fastest native precision), float32, bfloat16, float16", check_dtype)
    device: str = _option("auto", "auto (CUDA if present, else CPU), cpu, cuda, cuda:N, mps", check_device)
    long_texts: str = _option(
        "warn", "over max_seq_length: warn (truncate + LongTextWarning), error, chunk", check_long_texts
    )
    chunker: str = _option(
        "sentences", "how long_texts='chunk' splits: sentences, tokens, plugin chunkers", check_chunker
    )
    max_seq_length: int | None = _option(None, "None = the model's own limit (tokens)", check_max_seq_length)
    revision: str | None = _option(
        None, "Hub models: a branch, tag or commit (None = the default branch); the commit is recorded", check_revision
    )
    truncate_dim: int | None = _option(
        None,
        "keep the first N dims (Matryoshka models); None = the model's own truncate_dim, if any",
        check_truncate_dim,
    )

    compile: bool = _option(
        False,
        "torch.compile the model for inference: faster in bf16, after a compile at load (~30 s the first time)",
        check_compile,
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, f.metadata["check"](getattr(self, f.name)))

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


OPTIONS: dict[str, Option] = {
    f.name: Option(f.name, f.default, f.metadata["help"], f.metadata["check"]) for f in fields(EncodeOptions)
}


def option_defaults() -> dict[str, Any]:
    """``{name: default}`` of every encode option (hosts build their config defaults from this)."""
    return {name: option.default for name, option in OPTIONS.items()}


F = TypeVar("F", bound=Callable[..., Any])


def takes_encode_options(func: F) -> F:
    """Give ``func(..., **options)`` a signature that lists every encode option by name, with its default.

    ``inspect.signature`` (so ``help()``, scikit-learn's ``get_params`` and spaCy's config schema)
    then sees keyword-only parameters taken from ``OPTIONS``: a host declares its own parameters and
    ``**options``, never the option list itself. Options already in ``func``'s signature (e.g. the
    encoder's positional ``model``) keep their place. Values are checked by ``EncodeOptions``."""
    signature = inspect.signature(func)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in own}
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option.default, annotation=Any)
        for name, option in OPTIONS.items()
        if name not in taken
    ]
    positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    keyword = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
    func.__signature__ = signature.replace(parameters=[*positional, *added, *keyword])  # type: ignore[attr-defined]
    return func
