"""Elasticsearch host: dense_vector indices, ingest with a per-document report, kNN / BM25 / hybrid search.

Needs ``pip install 'sbert-plugins[elasticsearch]'`` with the client major that matches the
server (8.x or 9.x). Names load on first use, so the host's plugin (the ``elasticsearch``
vector store, entry point ``sbert_plugins``) can be listed without the client installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "ElasticsearchStore",
    "RetryPolicy",
    "bm25_body",
    "check_similarity",
    "check_versions",
    "client_major",
    "connect",
    "contract_mismatch",
    "default_url",
    "index_body",
    "index_options",
    "knn_body",
    "mapping_mismatch",
    "rrf_fuse",
    "server_version",
]
_HOMES = {
    "._bodies": (
        "bm25_body",
        "check_similarity",
        "contract_mismatch",
        "index_body",
        "index_options",
        "knn_body",
        "mapping_mismatch",
        "rrf_fuse",
    ),
    "._bulk": ("RetryPolicy",),
    "._client": ("check_versions", "client_major", "connect", "default_url", "server_version"),
    "._store": ("ElasticsearchStore",),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from sbert_plugins import require_extra

        require_extra("elasticsearch", "elasticsearch")
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sbert_plugins.elasticsearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from ._bodies import (
        bm25_body,
        check_similarity,
        contract_mismatch,
        index_body,
        index_options,
        knn_body,
        mapping_mismatch,
        rrf_fuse,
    )
    from ._bulk import RetryPolicy
    from ._client import check_versions, client_major, connect, default_url, server_version
    from ._store import ElasticsearchStore
