"""Sentence-BERT embeddings for spaCy, scikit-learn and Elasticsearch.

``import sbert_plugins`` is cheap: it imports neither torch nor any host
library (spaCy, scikit-learn, Elasticsearch). Public names load on first use;
host modules (:mod:`sbert_plugins.spacy`, :mod:`sbert_plugins.sklearn`,
:mod:`sbert_plugins.elasticsearch`) import their host when first imported.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> private module that defines it (PEP 562 lazy attributes)
_EXPORTS = {
    "SentenceEncoder": "._encoder",
    "ConfigError": "._errors",
    "EmbeddingContractError": "._errors",
    "IngestError": "._errors",
    "InputError": "._errors",
    "LongTextWarning": "._errors",
    "MissingExtraError": "._errors",
    "ModelLoadError": "._errors",
    "PluginError": "._errors",
    "SbertPluginsError": "._errors",
    "StoreUnavailableError": "._errors",
    "VectorStoreError": "._errors",
    "DEFAULT_MODEL": "._loading",
    "resolve_model": "._loading",
    "shared_encoder": "._loading",
    "get_plugin_manager": "._plugins",
    "register_plugin": "._plugins",
    "unregister_plugin": "._plugins",
    "Hit": "._similarity",
    "cos_sim": "._similarity",
    "dot_score": "._similarity",
    "most_similar_pairs": "._similarity",
    "semantic_search": "._similarity",
    "InMemoryStore": "._store",
    "SearchResult": "._store",
    "evaluate_sts": "._evaluation",
    "hookimpl": ".hookspecs",
    "hookspec": ".hookspecs",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sbert_plugins' has no attribute {name!r}")


def __dir__() -> list:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from ._encoder import SentenceEncoder
    from ._errors import (ConfigError, EmbeddingContractError, IngestError, InputError, LongTextWarning,
                          MissingExtraError, ModelLoadError, PluginError, SbertPluginsError,
                          StoreUnavailableError, VectorStoreError)
    from ._evaluation import evaluate_sts
    from ._loading import DEFAULT_MODEL, resolve_model, shared_encoder
    from ._plugins import get_plugin_manager, register_plugin, unregister_plugin
    from ._similarity import Hit, cos_sim, dot_score, most_similar_pairs, semantic_search
    from ._store import InMemoryStore, SearchResult
    from .hookspecs import hookimpl, hookspec
