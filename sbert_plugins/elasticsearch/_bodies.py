"""Pure request bodies (no I/O): mappings, kNN / BM25 queries, RRF fusion.

Kept apart from the client so they can be tested, logged and reused as-is.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .._errors import ConfigError

META_KEY = "sbert_plugins"
SIMILARITIES = ("cosine", "dot_product", "l2_norm", "max_inner_product")
INDEX_TYPES = ("hnsw", "int8_hnsw", "int4_hnsw", "bbq_hnsw", "flat", "int8_flat", "int4_flat", "bbq_flat")
Filter = Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None]


def index_options(kind: str = "hnsw", m: Optional[int] = None,
                  ef_construction: Optional[int] = None) -> Dict[str, Any]:
    """``index_options`` of a dense_vector field; ``m`` / ``ef_construction`` only for HNSW types."""
    if kind not in INDEX_TYPES:
        raise ConfigError(f"index_options type {kind!r} is not one of {INDEX_TYPES}")
    options: Dict[str, Any] = {"type": kind}
    if kind.endswith("hnsw"):
        if m is not None:
            options["m"] = int(m)
        if ef_construction is not None:
            options["ef_construction"] = int(ef_construction)
    elif m is not None or ef_construction is not None:
        raise ConfigError(f"m / ef_construction apply to HNSW index types, not {kind!r}")
    return options


def check_similarity(similarity: str, normalize: bool) -> str:
    """dot_product needs unit vectors: refuse it for an encoder that does not normalise."""
    if similarity not in SIMILARITIES:
        raise ConfigError(f"similarity {similarity!r} is not one of {SIMILARITIES}")
    if similarity == "dot_product" and not normalize:
        raise ConfigError("similarity='dot_product' requires unit-length vectors, but the encoder does not "
                          "normalise; use similarity='cosine' or an encoder with normalize=True")
    return similarity


def index_body(contract: Mapping[str, Any], *, similarity: str, options: Mapping[str, Any],
               text_field: str = "text", vector_field: str = "embedding",
               metadata_mapping: Optional[Mapping[str, Any]] = None, shards: int = 1,
               replicas: int = 0) -> Dict[str, Any]:
    """Settings + mappings, with the embedding contract stored in ``_meta``."""
    properties: Dict[str, Any] = {
        text_field: {"type": "text"},
        vector_field: {"type": "dense_vector", "dims": int(contract["dims"]), "index": True,
                       "similarity": similarity, "index_options": dict(options)},
    }
    properties.update(metadata_mapping or {})
    meta = {META_KEY: {**contract, "similarity": similarity, "text_field": text_field,
                       "vector_field": vector_field}}
    return {"settings": {"number_of_shards": shards, "number_of_replicas": replicas},
            "mappings": {"_meta": meta, "properties": properties}}


def _filters(filter: Filter) -> List[Dict[str, Any]]:
    if filter is None:
        return []
    return [dict(filter)] if isinstance(filter, Mapping) else [dict(f) for f in filter]


def knn_body(vector: Sequence[float], *, k: int, num_candidates: Optional[int] = None,
             vector_field: str = "embedding", filter: Filter = None,
             min_similarity: Optional[float] = None, source: Any = True) -> Dict[str, Any]:
    """A top-level ``knn`` search; ``num_candidates`` defaults to max(10 k, 100), capped at 10,000."""
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    candidates = num_candidates if num_candidates is not None else min(max(10 * k, 100), 10_000)
    if candidates < k:
        raise ConfigError(f"num_candidates={candidates} must be >= k={k}")
    knn: Dict[str, Any] = {"field": vector_field, "query_vector": [float(x) for x in vector], "k": k,
                           "num_candidates": candidates}
    if filter is not None:
        knn["filter"] = _filters(filter)
    if min_similarity is not None:
        knn["similarity"] = float(min_similarity)
    return {"knn": knn, "size": k, "_source": source}


def bm25_body(text: str, *, size: int, text_field: str = "text", filter: Filter = None,
              source: Any = True) -> Dict[str, Any]:
    query: Dict[str, Any] = {"bool": {"must": [{"match": {text_field: text}}]}}
    if filter is not None:
        query["bool"]["filter"] = _filters(filter)
    return {"query": query, "size": size, "_source": source}


def rrf_fuse(rankings: Sequence[Sequence[str]], k: int, rank_constant: int = 60) -> List[tuple]:
    """Reciprocal rank fusion: ``score(d) = sum 1 / (rank_constant + rank)``; ties by first appearance."""
    scores: Dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (rank_constant + rank)
    return sorted(scores.items(), key=lambda item: -item[1])[:k]


def contract_mismatch(stored: Mapping[str, Any], current: Mapping[str, Any]) -> List[str]:
    """Fields where an index's stored contract and the encoder disagree."""
    keys = ("fingerprint", "dims", "pooling", "normalize")
    return [f"{key}: index has {stored.get(key)!r}, encoder has {current.get(key)!r}"
            for key in keys if stored.get(key) != current.get(key)]
