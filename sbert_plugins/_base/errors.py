"""One exception tree for the whole package.

Every error carries the evidence a user needs to fix it (the offending value,
where it came from, what to do instead) as attributes as well as in its
message, and every error pickles with that data, because errors cross process
boundaries (spaCy ``n_process``, joblib, Spark executors)::

    SbertPluginsError
    ├── ModelLoadError            a model folder is missing, incomplete, unsafe or corrupt
    ├── InputError (ValueError)   texts or documents that cannot be embedded as they are
    ├── ConfigError (ValueError)  an option / parameter / config value is invalid
    ├── EmbeddingContractError    stored vectors and the encoder disagree
    ├── MissingExtraError (ImportError)  an optional host library is not installed
    ├── PluginError               a third-party plugin failed or misbehaved
    └── VectorStoreError          a vector store could not serve a request
        ├── StoreUnavailableError (ConnectionError)  the server cannot be reached
        ├── StoreAuthError        the server refused the credentials or the permission
        └── IngestError           some documents were not stored (carries the report)

    LongTextWarning (UserWarning)      texts were truncated to max_seq_length
    PrecisionWarning (RuntimeWarning)  a requested dtype is slow or unsafe on this hardware
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    """Unpickle an error without calling its ``__init__`` (whose signature may differ from ``args``)."""
    error = cls.__new__(cls)
    BaseException.__init__(error, *args)
    error.__dict__.update(state)
    return error


class SbertPluginsError(Exception):
    """Base class of every error raised by sbert-plugins."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ModelLoadError(SbertPluginsError):
    """A model folder is missing, incomplete, unsafe (code, pickles) or has a corrupt configuration."""


class InputError(SbertPluginsError, ValueError):
    """Texts or documents given to the encoder are not usable as they are.

    ``indices`` lists the positions of the offending items (when known) and
    ``reasons`` what is wrong with each, so a caller that embeds many items (an
    ingest) can report them one by one and embed the rest.
    """

    def __init__(self, message: str, indices: Sequence[int] = (), reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.indices = list(indices)
        self.reasons = list(reasons)


class ConfigError(SbertPluginsError, ValueError):
    """A configuration value (option, component config, estimator parameter, ...) is invalid."""


class EmbeddingContractError(SbertPluginsError):
    """Stored vectors and the encoder disagree (model, dims, pooling, normalisation, prompts)."""


class MissingExtraError(SbertPluginsError, ImportError):
    """An optional host library is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"{module!r} is not installed; install it with `pip install 'sbert-plugins[{extra}]'`")
        self.module = module
        self.extra = extra


class PluginError(SbertPluginsError):
    """A third-party plugin failed to load or misbehaved in a hook."""

    def __init__(self, plugin: str, hook: str | None, problem: str) -> None:
        where = f" in hook {hook!r}" if hook else ""
        super().__init__(f"plugin {plugin!r}{where}: {problem}")
        self.plugin = plugin
        self.hook = hook
        self.problem = problem


class VectorStoreError(SbertPluginsError):
    """A vector store (Elasticsearch, in-memory, ...) could not serve a request."""


class StoreUnavailableError(VectorStoreError, ConnectionError):
    """The vector store's server cannot be reached or stopped answering."""


class StoreAuthError(VectorStoreError):
    """The server refused the credentials, the certificate, or the permission for an operation."""


class IngestError(VectorStoreError):
    """Some documents were not stored; ``failures`` lists each with its reason, ``report`` has everything."""

    def __init__(self, message: str, failures: Sequence[Any] = (), report: Any = None) -> None:
        super().__init__(message)
        self.failures = list(failures)
        self.report = report


class LongTextWarning(UserWarning):
    """Some texts were longer than the model's max_seq_length and were truncated."""


class PrecisionWarning(RuntimeWarning):
    """A requested dtype runs much slower than float32 (or unsafely) on this hardware."""


def require_extra(module: str, extra: str) -> ModuleType:
    """Import an optional host library, or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, extra) from exc
