"""Sentence-BERT embeddings for spaCy, scikit-learn and Elasticsearch.

``import sbert_plugins`` imports none of the host libraries; the host modules
(:mod:`sbert_plugins.spacy`, :mod:`sbert_plugins.sklearn`,
:mod:`sbert_plugins.elasticsearch`) import theirs when first used.
"""
from ._encoder import SentenceEncoder
from ._errors import (
    ConfigError,
    EmbeddingContractError,
    IngestError,
    InputError,
    LongTextWarning,
    MissingExtraError,
    ModelLoadError,
    PluginError,
    SbertPluginsError,
    StoreUnavailableError,
    VectorStoreError,
)
from ._loading import DEFAULT_MODEL, resolve_model, shared_encoder
from ._plugins import get_plugin_manager, register_plugin, unregister_plugin
from ._similarity import Hit, cos_sim, dot_score, most_similar_pairs, semantic_search
from ._store import InMemoryStore, SearchResult
from .hookspecs import hookimpl, hookspec

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "ConfigError",
    "EmbeddingContractError",
    "Hit",
    "InMemoryStore",
    "IngestError",
    "InputError",
    "LongTextWarning",
    "MissingExtraError",
    "ModelLoadError",
    "PluginError",
    "SbertPluginsError",
    "SearchResult",
    "SentenceEncoder",
    "StoreUnavailableError",
    "VectorStoreError",
    "__version__",
    "cos_sim",
    "dot_score",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "most_similar_pairs",
    "register_plugin",
    "resolve_model",
    "semantic_search",
    "shared_encoder",
    "unregister_plugin",
]
