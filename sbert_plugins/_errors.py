"""One exception tree for the whole package.

Every error carries the evidence a user needs to fix it: the offending value,
where it came from, and what to do instead.
"""
from __future__ import annotations


class SbertPluginsError(Exception):
    """Base class of every error raised by sbert-plugins."""


class ModelLoadError(SbertPluginsError):
    """A model folder is missing, incomplete or has a corrupt configuration."""


class InputError(SbertPluginsError, ValueError):
    """Texts given to the encoder are not usable as they are."""


class ConfigError(SbertPluginsError, ValueError):
    """A configuration value (component config, estimator parameter, ...) is invalid."""


class EmbeddingContractError(SbertPluginsError):
    """Stored vectors and the encoder disagree (model, dims, pooling, normalisation)."""


class MissingExtraError(SbertPluginsError, ImportError):
    """An optional host library is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module!r} is not installed; install it with "
            f"`pip install 'sbert-plugins[{extra}]'`"
        )
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
    """The vector store's server cannot be reached."""


class IngestError(VectorStoreError):
    """Some documents were not stored; `failures` lists each one with its reason."""

    def __init__(self, message: str, failures: list | None = None) -> None:
        super().__init__(message)
        self.failures = list(failures or [])


class LongTextWarning(UserWarning):
    """Some texts were longer than the model's max_seq_length and were truncated."""


def require(module: str, extra: str):
    """Import an optional host library or fail naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised in a clean env
        raise MissingExtraError(module, extra) from exc
