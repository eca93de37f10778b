"""Reads: documents by id, counts, and kNN / BM25 / hybrid queries (each checks the contract first)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sbert_plugins import (
    ConfigError,
    EmbeddingContractError,
    Filter,
    InputError,
    SearchResult,
    query_prompt_name,
    text_problem,
)

from . import _bodies as bodies
from ._index import IndexOps
from ._vectors import VectorForm, float_copy_field, float_scores

Filters = Mapping[str, Any] | Filter | None
RawFilter = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class Reads(IndexOps):
    """Documents by id, counts and queries."""

    def get(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored sources (without the vector) of the ids that exist."""
        if not ids:
            return {}
        with self._errors("getting documents"):
            excludes = [self.vector_field, float_copy_field(self.vector_field)]
            found = self.client.mget(index=self.index, ids=list(ids), source_excludes=excludes).body
        return {d["_id"]: dict(d.get("_source", {})) for d in found["docs"] if d.get("found")}

    def _filters(self, filter: Filters, raw_filter: RawFilter, stored: Mapping[str, Any]) -> bodies.Clauses:
        clauses = bodies.raw_clauses(raw_filter)
        if filter is not None:
            properties = stored.get("_properties", {})
            clauses += Filter(filter).to_dsl(lambda name: _keyword_field(properties, name))
        return clauses

    def count(self, filter: Filters = None, *, raw_filter: RawFilter = None) -> int:
        stored = self.check_contract()
        return self._count_query(bodies.filter_query(self._filters(filter, raw_filter, stored)))

    def _count_query(self, query: dict[str, Any]) -> int:
        with self._errors("counting"):
            return int(self.client.count(index=self.index, query=query).body["count"])

    def _query_vector(self, text: str, stored: Mapping[str, Any], form: VectorForm) -> list[float]:
        vector = self.encoder.encode(
            [text],
            normalize=form.unit(stored.get("similarity")),
            prompt_name=query_prompt_name(self.encoder.prompts),
        )
        return [float(x) for x in vector[0]]

    def knn(
        self,
        query: str,
        k: int = 10,
        *,
        filter: Filters = None,
        raw_filter: RawFilter = None,
        num_candidates: int | None = None,
        min_similarity: float | None = None,
        oversample: float | None = None,
    ) -> list[SearchResult]:
        """Approximate kNN (exact on ``flat`` indices), among documents matching the filters.

        On a byte / bit index that keeps its float vectors, the top ``k * oversample`` candidates (default:
        the index's ``rescore_oversample``) are rescored with them, and scores are the float ones."""
        stored = self.check_contract()
        form = VectorForm.from_contract(stored)
        vector = self._query_vector(query, stored, form)
        filters = self._filters(filter, raw_filter, stored)
        return self._knn(vector, k, filters, stored, form, num_candidates, min_similarity, oversample)

    def knn_vector(
        self,
        vector: Sequence[float],
        k: int = 10,
        *,
        filter: Filters = None,
        raw_filter: RawFilter = None,
        num_candidates: int | None = None,
        min_similarity: float | None = None,
        oversample: float | None = None,
    ) -> list[SearchResult]:
        """:meth:`knn` for a query vector made beforehand (with this store's encoder, as its contract says)."""
        stored = self.check_contract()
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != stored.get("dims") or not np.isfinite(query).all():
            raise InputError(f"vector must be {stored.get('dims')} finite numbers, got shape {query.shape}")
        form = VectorForm.from_contract(stored)
        if form.unit(stored.get("similarity")):
            query = query / max(float(np.linalg.norm(query)), 1e-12)  # as the encoder normalises for the index
        filters = self._filters(filter, raw_filter, stored)
        return self._knn(query.tolist(), k, filters, stored, form, num_candidates, min_similarity, oversample)

    def _knn(
        self,
        vector: list[float],
        k: int,
        filters: bodies.Clauses,
        stored: Mapping[str, Any],
        form: VectorForm,
        num_candidates: int | None,
        min_similarity: float | None,
        oversample: float | None,
    ) -> list[SearchResult]:
        if oversample is not None and form.rescore_field is None:
            raise ConfigError("oversample= applies to byte / bit indices that keep their float vectors")
        if min_similarity is not None and form.element_type != "float":
            raise ConfigError(
                f"min_similarity is on the server's {form.element_type} scores for this index, not the float "
                "ones; filter the results' scores instead"
            )
        window = form.window(k, oversample)
        body = bodies.knn_body(
            form.quantize(np.asarray(vector, dtype=np.float32)),
            k=k,
            num_candidates=num_candidates,
            vector_field=stored.get("vector_field", self.vector_field),
            filters=filters,
            min_similarity=min_similarity,
            source=self._source_filter(stored, form),
            window=window,
        )
        if window is not None:  # the float copy, as doc values (9.x leaves vectors out of _source)
            body["fields"] = [form.rescore_field]
        hits = self._search(body)["hits"]["hits"]
        if window is not None:
            hits = _rescored(hits, form, vector, k)
        return self._hits({"hits": {"hits": hits}})

    search = knn  # the VectorStore protocol name

    def bm25(
        self, query: str, k: int = 10, *, filter: Filters = None, raw_filter: RawFilter = None
    ) -> list[SearchResult]:
        _check_query(query)  # before anything is sent: a None query would come back as a raw 400
        stored = self.check_contract()
        body = bodies.bm25_body(
            query,
            size=k,
            text_field=stored.get("text_field", self.text_field),
            filters=self._filters(filter, raw_filter, stored),
            source=self._source_filter(stored, VectorForm.from_contract(stored)),
        )
        return self._hits(self._search(body))

    def hybrid(
        self,
        query: str,
        k: int = 10,
        *,
        window: int | None = None,
        num_candidates: int | None = None,
        filter: Filters = None,
        raw_filter: RawFilter = None,
        rank_constant: int = 60,
    ) -> list[SearchResult]:
        """BM25 + kNN fused with reciprocal rank fusion (client side: works on every licence)."""
        window = window or max(k, 50)
        lexical = self.bm25(query, window, filter=filter, raw_filter=raw_filter)
        semantic = self.knn(query, window, num_candidates=num_candidates, filter=filter, raw_filter=raw_filter)
        sources = {h.id: h.source for h in lexical + semantic}
        fused = bodies.rrf_fuse([[h.id for h in lexical], [h.id for h in semantic]], k, rank_constant)
        return [SearchResult(doc_id, score, sources[doc_id]) for doc_id, score in fused]

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._errors("searching"):
            return dict(self.client.search(index=self.index, **body).body)

    def _source_filter(self, stored: Mapping[str, Any], form: VectorForm) -> dict[str, Any]:
        copy = form.rescore_field
        field = stored.get("vector_field", self.vector_field)
        return {"excludes": [field] + ([copy] if copy else [])}  # the vectors are large, rarely wanted

    @staticmethod
    def _hits(response: Mapping[str, Any]) -> list[SearchResult]:
        return [
            SearchResult(h["_id"], float(h["_score"]), dict(h.get("_source", {}))) for h in response["hits"]["hits"]
        ]


def _rescored(hits: list[dict[str, Any]], form: VectorForm, query: list[float], k: int) -> list[dict[str, Any]]:
    """The candidates in float order (ties keep the server's order), the best ``k``."""
    assert form.rescore_field is not None and form.rescore_similarity is not None
    if not hits:
        return []
    missing = [h["_id"] for h in hits if len((h.get("fields") or {}).get(form.rescore_field) or []) != len(query)]
    if missing:
        raise EmbeddingContractError(
            f"document(s) {missing[:5]} have no float copy {form.rescore_field!r} to rescore with (written by "
            "another tool?); re-ingest them with this store"
        )
    vectors = np.asarray([h["fields"][form.rescore_field] for h in hits], dtype=np.float64)
    scores = float_scores(form.rescore_similarity, np.asarray(query), vectors)
    order = np.argsort(-scores, kind="stable")[:k]
    return [{**hits[i], "_score": float(scores[i])} for i in order]


def _keyword_field(properties: Mapping[str, Any], name: str) -> str:
    """Filter on a text field's ``.keyword`` sub-field (exact values), as dynamic mapping creates it."""
    field = properties.get(name) or {}
    if field.get("type") == "text" and "keyword" in (field.get("fields") or {}):
        return f"{name}.keyword"
    return name


def _check_query(query: Any) -> None:
    problem = text_problem(query)
    if problem is not None:
        raise InputError(f"query {query!r:.80} {problem}; give the text to search for")
