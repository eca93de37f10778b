"""Pure request bodies (no I/O): mappings, kNN / BM25 queries, filters, RRF fusion, contract checks.

Kept apart from the client so they can be tested, logged and reused as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sbert_plugins import ConfigError

from ._vectors import VectorForm
from ._vectors import mapping as vector_mapping

META_KEY = "sbert_plugins"
SIMILARITIES = ("cosine", "dot_product", "l2_norm", "max_inner_product")
HNSW_TYPES = ("hnsw", "int8_hnsw", "int4_hnsw", "bbq_hnsw")
FLAT_TYPES = ("flat", "int8_flat", "int4_flat", "bbq_flat")
INDEX_TYPES = ("auto", *HNSW_TYPES, *FLAT_TYPES, "bbq_disk")
QUANTIZED = ("int8_hnsw", "int4_hnsw", "bbq_hnsw", "int8_flat", "int4_flat", "bbq_flat", "bbq_disk")
Clauses = list[dict[str, Any]]


def index_options(
    kind: str = "auto",
    m: int | None = None,
    ef_construction: int | None = None,
    oversample: float | None = None,
) -> dict[str, Any] | None:
    """``index_options`` of a dense_vector field, or None for ``"auto"`` (the server's default).

    ``m`` / ``ef_construction`` apply to HNSW types; ``oversample`` (``rescore_vector``)
    to quantized types: the top ``k * oversample`` candidates are rescored with the raw vectors.
    """
    if kind not in INDEX_TYPES:
        raise ConfigError(f"index_type={kind!r} is not one of {INDEX_TYPES}")
    if kind == "auto":
        if m is not None or ef_construction is not None or oversample is not None:
            raise ConfigError("m / ef_construction / oversample need an explicit index_type, not 'auto'")
        return None
    options: dict[str, Any] = {"type": kind}
    if kind in HNSW_TYPES:
        options.update({k: int(v) for k, v in (("m", m), ("ef_construction", ef_construction)) if v is not None})
    elif m is not None or ef_construction is not None:
        raise ConfigError(f"m / ef_construction apply to HNSW index types, not {kind!r}")
    if oversample is not None:
        if kind not in QUANTIZED or not oversample >= 1:
            raise ConfigError(f"oversample={oversample!r} needs a quantized index_type {QUANTIZED} and a value >= 1")
        options["rescore_vector"] = {"oversample": float(oversample)}
    return options


def default_similarity(model_similarity: str, normalize: bool) -> str:
    """The dense_vector similarity for a model's ``similarity_fn_name`` (cosine, dot, euclidean, manhattan)."""
    if model_similarity == "euclidean":
        return "l2_norm"
    if model_similarity == "manhattan":
        raise ConfigError(
            "the model was trained for manhattan similarity, which dense_vector has no form of; pass similarity= "
            "('l2_norm' is the closest) to choose one"
        )
    if model_similarity == "dot":
        return "dot_product" if normalize else "max_inner_product"
    return "dot_product" if normalize else "cosine"


def check_similarity(similarity: str, normalize: bool) -> str:
    """dot_product needs unit vectors: refuse it for an encoder that does not normalise."""
    if similarity not in SIMILARITIES:
        raise ConfigError(f"similarity {similarity!r} is not one of {SIMILARITIES}")
    if similarity == "dot_product" and not normalize:
        raise ConfigError(
            "similarity='dot_product' requires unit-length vectors, but the encoder does not normalise; use "
            "similarity='cosine' or an encoder with normalize=True"
        )
    return similarity


def index_body(
    contract: Mapping[str, Any],
    *,
    similarity: str,
    options: Mapping[str, Any] | None,
    text_field: str = "text",
    vector_field: str = "embedding",
    metadata_mapping: Mapping[str, Any] | None = None,
    shards: int = 1,
    replicas: int = 0,
    form: VectorForm | None = None,
) -> dict[str, Any]:
    """Settings + mappings, with the embedding contract (and how vectors are stored) in ``_meta``."""
    form = form or VectorForm()
    dims = int(contract["dims"])
    vector: dict[str, Any] = {"type": "dense_vector", "dims": dims, "index": True, "similarity": similarity}
    if form.element_type != "float":
        vector["element_type"] = form.element_type
    if options is not None:
        vector["index_options"] = dict(options)
    properties: dict[str, Any] = {text_field: {"type": "text"}, vector_field: vector, **vector_mapping(form, dims)}
    properties.update(metadata_mapping or {})
    meta = {
        META_KEY: {
            **contract,
            "similarity": similarity,
            "text_field": text_field,
            "vector_field": vector_field,
            "vector_form": form.contract(),
        }
    }
    return {
        "settings": {"number_of_shards": shards, "number_of_replicas": replicas},
        "mappings": {"_meta": meta, "properties": properties},
    }


def knn_body(
    vector: Sequence[float] | Sequence[int] | str,
    *,
    k: int,
    num_candidates: int | None = None,
    vector_field: str = "embedding",
    filters: Clauses | None = None,
    min_similarity: float | None = None,
    source: Any = True,
    window: int | None = None,
) -> dict[str, Any]:
    """A top-level ``knn`` search; ``num_candidates`` defaults to max(10 k, 100), capped at 10,000.

    ``vector`` is floats, or for byte / bit fields the int8 values / the bits as hex. ``window``: fetch that
    many hits (>= k) for the caller to rescore (a byte / bit index's float rescoring)."""
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k={k!r}: use an int >= 1")
    wanted = k if window is None else max(k, int(window))
    candidates = num_candidates if num_candidates is not None else min(max(10 * wanted, 100), 10_000)
    if candidates < wanted:
        raise ConfigError(f"num_candidates={candidates} must be >= k={k} (and the rescoring window, {wanted})")
    query_vector: Any = vector if isinstance(vector, str) else [_number(x) for x in vector]
    knn: dict[str, Any] = {
        "field": vector_field,
        "query_vector": query_vector,
        "k": wanted,
        "num_candidates": candidates,
    }
    if filters:
        knn["filter"] = filters
    if min_similarity is not None:
        knn["similarity"] = float(min_similarity)
    return {"knn": knn, "size": wanted, "_source": source}


def _number(x: Any) -> int | float:
    return int(x) if isinstance(x, int) else float(x)


def bm25_body(
    text: str, *, size: int, text_field: str = "text", filters: Clauses | None = None, source: Any = True
) -> dict[str, Any]:
    if not isinstance(size, int) or size < 1:
        raise ConfigError(f"k={size!r}: use an int >= 1")
    query: dict[str, Any] = {"bool": {"must": [{"match": {text_field: text}}]}}
    if filters:
        query["bool"]["filter"] = filters
    return {"query": query, "size": size, "_source": source}


def filter_query(filters: Clauses) -> dict[str, Any]:
    """A query matching documents that satisfy every clause (for count / delete_by_query)."""
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def raw_clauses(raw_filter: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> Clauses:
    """Raw query DSL from application code (never from end users) as a list of filter clauses."""
    if raw_filter is None:
        return []
    if isinstance(raw_filter, Mapping):
        return [dict(raw_filter)]
    return [dict(f) for f in raw_filter]


def rrf_fuse(rankings: Sequence[Sequence[str]], k: int, rank_constant: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: ``score(d) = sum 1 / (rank_constant + rank)``; ties by first appearance."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (rank_constant + rank)
    return sorted(scores.items(), key=lambda item: -item[1])[:k]


def contract_mismatch(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Fields where an index's stored contract and the encoder disagree."""
    keys = ("fingerprint", "dims", "pooling", "normalize")
    problems = [
        f"{key}: index has {stored.get(key)!r}, encoder has {current.get(key)!r}"
        for key in keys
        if stored.get(key) != current.get(key)
    ]
    # prompts: indices written before prompts were recorded count as "no prompts"
    if (stored.get("prompts") or {}) != (current.get("prompts") or {}):
        problems.append(f"prompts: index has {stored.get('prompts') or {}!r}, encoder has {current.get('prompts')!r}")
    return problems


_CONTRACT_TYPES: dict[str, type | tuple[type, ...]] = {
    "fingerprint": str,
    "dims": int,
    "pooling": str,
    "normalize": bool,
    "similarity": str,
    "text_field": str,
    "vector_field": str,
}


def contract_shape_problems(
    stored: Any, properties: Mapping[str, Any], text_field: str, vector_field: str
) -> list[str]:
    """What is wrong with an index's ``_meta`` contract itself (tampered, hand-written or from another tool),
    and whether its fields are this store's and exist in the mapping with the right types."""
    if not isinstance(stored, Mapping):
        return [f"its _meta.{META_KEY} is a {type(stored).__name__}, not the contract object create_index() writes"]
    problems = [
        f"{key}={stored.get(key)!r} is not a {getattr(kind, '__name__', kind)}"
        for key, kind in _CONTRACT_TYPES.items()
        if not isinstance(stored.get(key), kind) or (kind is int and isinstance(stored.get(key), bool))
    ]
    if problems:
        return problems
    for key, mine in (("text_field", text_field), ("vector_field", vector_field)):
        if stored[key] != mine:
            problems.append(f"{key} is {stored[key]!r} in the index but {mine!r} in this store (pass {key}=...)")
    text = properties.get(stored["text_field"]) or {}
    if text.get("type") != "text":
        problems.append(f"text field {stored['text_field']!r} is {text.get('type')!r} in the mapping, not 'text'")
    return problems


def mapping_mismatch(stored: Mapping[str, Any], field: Mapping[str, Any] | None) -> list[str]:
    """Where the live ``dense_vector`` mapping disagrees with the contract in ``_meta`` (e.g. a copied _meta)."""
    name = stored.get("vector_field", "embedding")
    if not field or field.get("type") != "dense_vector":
        return [f"field {name!r} is not a dense_vector in the live mapping"]
    problems = []
    if field.get("dims") is not None and field.get("dims") != stored.get("dims"):
        problems.append(f"mapping dims {field.get('dims')!r} != contract dims {stored.get('dims')!r}")
    if field.get("similarity") not in (None, stored.get("similarity")):
        problems.append(f"mapping similarity {field.get('similarity')!r} != contract {stored.get('similarity')!r}")
    return problems
