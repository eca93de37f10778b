"""Sentence-BERT embeddings for spaCy, scikit-learn, Elasticsearch and Spark, on one offline encoder.

``import sbert_plugins`` is cheap: it imports neither torch nor any host library.
Public names load on first use (PEP 562). Hosts live in their own modules
(:mod:`sbert_plugins.spacy`, :mod:`sbert_plugins.sklearn`, :mod:`sbert_plugins.elasticsearch`,
:mod:`sbert_plugins.spark`) and import their host library when they are imported.
Everything below is the public API (docs/api.md); ``sbert_plugins.testing`` adds test helpers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._base.version import __version__

__all__ = [
    "DEFAULT_MODEL",
    "DUPLICATE_POLICIES",
    "OPTIONS",
    "PRECISIONS",
    "CacheStats",
    "ConfigError",
    "Document",
    "EmbeddingCache",
    "EmbeddingContractError",
    "EncodeOptions",
    "Encoder",
    "Failure",
    "Filter",
    "Hit",
    "InMemoryStore",
    "IngestError",
    "IngestReport",
    "InputError",
    "LongTextWarning",
    "MissingExtraError",
    "ModelLoadError",
    "PluginError",
    "PrecisionWarning",
    "STSResult",
    "SbertPluginsError",
    "SearchResult",
    "SentenceEncoder",
    "SharedEncoders",
    "StoreAuthError",
    "StoreUnavailableError",
    "VectorStore",
    "VectorStoreError",
    "__version__",
    "approximate_similar_pairs",
    "check_duplicate_policy",
    "content_id",
    "cos_sim",
    "data_dir",
    "document_prompt_name",
    "document_windows",
    "dot_score",
    "drain_unsent",
    "embed_documents",
    "embedding_cache",
    "evaluate_pairs",
    "evaluate_sts",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "load_senteval",
    "load_sts",
    "most_similar_pairs",
    "option_defaults",
    "parse_document",
    "quantization_ranges",
    "quantize_embeddings",
    "query_prompt_name",
    "register_plugin",
    "report_existing_id",
    "require_extra",
    "reset_plugin_manager",
    "resolve_model",
    "semantic_search",
    "sentence_chunks",
    "shared_encoder",
    "shared_encoders",
    "takes_encode_options",
    "text_problem",
    "token_window_chunks",
    "unregister_plugin",
    "validate_texts",
]

# where each public name lives (loaded on first access, so no torch at import)
_HOMES = {
    "._features.embedding_cache": ("CacheStats", "EmbeddingCache", "embedding_cache"),
    "._base.chunkers": ("sentence_chunks", "token_window_chunks"),
    "._base.eval_data": ("data_dir", "load_senteval", "load_sts"),
    "._base.documents": ("Document", "content_id", "parse_document"),
    "._encoding.encoder": ("SentenceEncoder",),
    "._base.errors": (
        "ConfigError",
        "EmbeddingContractError",
        "IngestError",
        "InputError",
        "LongTextWarning",
        "MissingExtraError",
        "ModelLoadError",
        "PluginError",
        "PrecisionWarning",
        "SbertPluginsError",
        "StoreAuthError",
        "StoreUnavailableError",
        "VectorStoreError",
        "require_extra",
    ),
    "._features.evaluation": ("STSResult", "evaluate_pairs", "evaluate_sts"),
    "._base.filters": ("Filter",),
    "._features.ingest": (
        "check_duplicate_policy",
        "document_prompt_name",
        "document_windows",
        "drain_unsent",
        "embed_documents",
        "query_prompt_name",
        "report_existing_id",
    ),
    "._base.options": ("DEFAULT_MODEL", "OPTIONS", "EncodeOptions", "option_defaults", "takes_encode_options"),
    "._registry.manager": ("get_plugin_manager", "register_plugin", "reset_plugin_manager", "unregister_plugin"),
    "._base.protocols": ("DUPLICATE_POLICIES", "Encoder", "Failure", "IngestReport", "SearchResult", "VectorStore"),
    "._loading.names": ("resolve_model",),
    "._encoding.encoder_cache": ("SharedEncoders", "shared_encoder", "shared_encoders"),
    "._base.quantization": ("PRECISIONS", "quantization_ranges", "quantize_embeddings"),
    "._features.similarity": ("Hit", "cos_sim", "dot_score", "semantic_search"),
    "._features.pair_mining": ("most_similar_pairs",),
    "._features.approximate_pairs": ("approximate_similar_pairs",),
    "._features.memory_store": ("InMemoryStore",),
    "._base.validation": ("text_problem", "validate_texts"),
    ".hookspecs": ("hookimpl", "hookspec"),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sbert_plugins' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._base.chunkers import sentence_chunks, token_window_chunks
    from ._base.documents import Document, content_id, parse_document
    from ._base.errors import (
        ConfigError,
        EmbeddingContractError,
        IngestError,
        InputError,
        LongTextWarning,
        MissingExtraError,
        ModelLoadError,
        PluginError,
        PrecisionWarning,
        SbertPluginsError,
        StoreAuthError,
        StoreUnavailableError,
        VectorStoreError,
        require_extra,
    )
    from ._base.eval_data import data_dir, load_senteval, load_sts
    from ._base.filters import Filter
    from ._base.options import DEFAULT_MODEL, OPTIONS, EncodeOptions, option_defaults, takes_encode_options
    from ._base.protocols import DUPLICATE_POLICIES, Encoder, Failure, IngestReport, SearchResult, VectorStore
    from ._base.quantization import PRECISIONS, quantization_ranges, quantize_embeddings
    from ._base.validation import text_problem, validate_texts
    from ._encoding.encoder import SentenceEncoder
    from ._encoding.encoder_cache import SharedEncoders, shared_encoder, shared_encoders
    from ._features.approximate_pairs import approximate_similar_pairs
    from ._features.embedding_cache import CacheStats, EmbeddingCache, embedding_cache
    from ._features.evaluation import STSResult, evaluate_pairs, evaluate_sts
    from ._features.ingest import (
        check_duplicate_policy,
        document_prompt_name,
        document_windows,
        drain_unsent,
        embed_documents,
        query_prompt_name,
        report_existing_id,
    )
    from ._features.memory_store import InMemoryStore
    from ._features.pair_mining import most_similar_pairs
    from ._features.similarity import Hit, cos_sim, dot_score, semantic_search
    from ._loading.names import resolve_model
    from ._registry.manager import get_plugin_manager, register_plugin, reset_plugin_manager, unregister_plugin
    from .hookspecs import hookimpl, hookspec
