"""Elasticsearch host: dense_vector indices, ingest, kNN / hybrid search.

Needs ``pip install 'sbert-plugins[elasticsearch]'`` (the 8.x client for an 8.x server).
"""
from .._errors import require

require("elasticsearch", "elasticsearch")

from ._bodies import (bm25_body, check_similarity, contract_mismatch, index_body, index_options,  # noqa: E402
                      knn_body, rrf_fuse)
from ._ingest import Failure, IngestReport  # noqa: E402
from ._store import ElasticsearchStore, check_versions, connect  # noqa: E402

__all__ = ["ElasticsearchStore", "Failure", "IngestReport", "bm25_body", "check_similarity", "check_versions",
           "connect", "contract_mismatch", "index_body", "index_options", "knn_body", "rrf_fuse"]
