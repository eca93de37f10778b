"""ElasticsearchStore: create, ingest, query, manage and re-embed dense_vector indices (8.x and 9.x)."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sbert_plugins import (
    ConfigError,
    EmbeddingContractError,
    Encoder,
    Filter,
    IngestError,
    IngestReport,
    InputError,
    SearchResult,
    StoreAuthError,
    StoreUnavailableError,
    VectorStoreError,
    check_duplicate_policy,
    query_prompt_name,
    shared_encoder,
)

from . import _bodies as bodies
from ._bulk import BulkSender, RetryPolicy
from ._client import connect, describe, es_errors
from ._ingest import IngestRun, Target

Filters = Mapping[str, Any] | Filter | None
RawFilter = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class ElasticsearchStore:
    """One index (or alias) of documents embedded with one encoder.

    The encoder's contract (model, fingerprint, dims, pooling, normalize, prompts) lives in
    the mapping's ``_meta`` and is checked, with the live ``dense_vector`` mapping, before
    every ingest and query. ``filter=`` takes the safe form (``{field: value | [values] |
    {range}}``, for end-user input); ``raw_filter=`` takes query DSL from application code.
    """

    def __init__(
        self,
        index: str,
        encoder: Encoder | None = None,
        *,
        client: Any = None,
        url: str | list[str] | None = None,
        api_key: str | tuple[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        ca_certs: str | os.PathLike[str] | None = None,
        verify_certs: bool | None = None,
        text_field: str = "text",
        vector_field: str = "embedding",
        batch_size: int | None = None,
        **client_options: Any,
    ) -> None:
        self.index = index
        self.encoder: Encoder = encoder if encoder is not None else shared_encoder()
        self.text_field, self.vector_field, self.batch_size = text_field, vector_field, batch_size
        if client is None:
            client = connect(
                url,
                api_key=api_key,
                basic_auth=basic_auth,
                ca_certs=ca_certs,
                verify_certs=verify_certs,
                **client_options,
            )
        self.client = client
        self.where = describe(client)

    def __repr__(self) -> str:  # never shows credentials
        return f"ElasticsearchStore(index={self.index!r}, at={self.where!r}, model={self.encoder.name!r})"

    def _errors(self, what: str) -> Any:
        return es_errors(f"{what} ({self.index!r})", self.where)

    # -- index management ----------------------------------------------------
    def create_index(
        self,
        *,
        similarity: str | None = None,
        index_type: str = "auto",
        m: int | None = None,
        ef_construction: int | None = None,
        oversample: float | None = None,
        metadata_mapping: Mapping[str, Any] | None = None,
        shards: int = 1,
        replicas: int = 0,
        name: str | None = None,
        exist_ok: bool = False,
    ) -> str:
        """Create the index from the encoder: dims, similarity, index options, contract in ``_meta``.

        ``index_type="auto"`` takes the server's default for the dims (9.x: ``bbq_hnsw`` from 384
        dims, ``int8_hnsw`` below; 8.x: ``int8_hnsw``); the effective options are read back and
        recorded in the contract.
        """
        normalize = self.encoder.normalize
        similarity = bodies.check_similarity(similarity or ("dot_product" if normalize else "cosine"), normalize)
        options = bodies.index_options(index_type, m, ef_construction, oversample)
        body = bodies.index_body(
            self.encoder.contract(),
            similarity=similarity,
            options=options,
            text_field=self.text_field,
            vector_field=self.vector_field,
            metadata_mapping=metadata_mapping,
            shards=shards,
            replicas=replicas,
        )
        name = name or self.index
        with self._errors("creating the index"):
            if self.client.indices.exists(index=name):
                if not exist_ok:
                    raise VectorStoreError(
                        f"index {name!r} exists; pass exist_ok=True to reuse it (its contract is "
                        "checked) or delete it first"
                    )
                self.check_contract(name)
                return name
            self.client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
            self._record_index_options(name, body["mappings"]["_meta"][bodies.META_KEY])
        return name

    def _record_index_options(self, name: str, meta: dict[str, Any]) -> None:
        field = self._vector_mapping(name)
        meta["index_options"] = dict(field.get("index_options") or {"type": "server default"})
        self.client.indices.put_mapping(index=name, meta={bodies.META_KEY: meta})

    def _mappings(self, index: str) -> list[dict[str, Any]]:
        from elasticsearch import NotFoundError

        try:
            with self._errors("reading the mapping"):
                return [m["mappings"] for m in self.client.indices.get_mapping(index=index).body.values()]
        except VectorStoreError as exc:
            if isinstance(exc.__cause__, NotFoundError):
                raise VectorStoreError(f"index {index!r} does not exist; call create_index() first") from None
            raise

    def _vector_mapping(self, index: str, field: str | None = None) -> dict[str, Any]:
        properties = self._mappings(index)[0].get("properties", {})
        return dict(properties.get(field or self.vector_field) or {})

    def stored_contract(self, index: str | None = None) -> dict[str, Any]:
        """The contract in the index's ``_meta``, checked against the live dense_vector mapping."""
        index = index or self.index
        mappings = self._mappings(index)
        metas = [m.get("_meta", {}).get(bodies.META_KEY) for m in mappings]
        if not metas or any(meta is None for meta in metas):
            raise EmbeddingContractError(
                f"index {index!r} was not created by sbert-plugins (no embedding contract "
                "in its _meta); create it with create_index()"
            )
        stored = dict(metas[0])
        field = mappings[0].get("properties", {}).get(stored.get("vector_field", self.vector_field))
        problems = bodies.mapping_mismatch(stored, field)
        if problems:
            raise EmbeddingContractError(
                f"index {index!r}: its mapping and its _meta contract disagree ("
                + "; ".join(problems)
                + "); recreate the index with create_index()"
            )
        stored["_properties"] = mappings[0].get("properties", {})
        return stored

    def check_contract(self, index: str | None = None) -> dict[str, Any]:
        """Refuse to read or write an index whose vectors come from another model/config."""
        stored = self.stored_contract(index)
        problems = bodies.contract_mismatch(stored, self.encoder.contract())
        if problems:
            raise EmbeddingContractError(
                f"index {index or self.index!r} does not match the encoder {self.encoder.name!r}: "
                + "; ".join(problems)
                + ". Use the model it was built with, or re-embed with reembed()."
            )
        return stored

    # -- ingest ----------------------------------------------------------------
    def ingest(
        self,
        documents: Iterable[Any],
        *,
        on_duplicate: str = "overwrite",
        chunk_size: int = 500,
        encode_window: int = 2000,
        retry: RetryPolicy | None = None,
        refresh: bool = True,
        progress: bool = False,
        raise_on_error: bool = False,
        index: str | None = None,
        unicode_errors: str = "strict",
    ) -> IngestReport:
        """Embed and index documents (dicts, ``(id, text[, metadata])`` tuples or Documents), by id.

        Documents are read and embedded ``encode_window`` at a time (memory is bounded by
        that, not by the input) and sent ``chunk_size`` per bulk request. ``on_duplicate``:
        ``overwrite`` (default), ``skip`` or ``fail`` for ids that already exist. The report
        accounts for every document; if the server stops answering, the run stops and the
        report (``error`` set) lists what was unacknowledged and what was never sent. A
        refused permission raises :class:`StoreAuthError` with the report as ``exc.report``.
        """
        target_index = index or self.index
        policy = check_duplicate_policy(on_duplicate)
        target = self._target(target_index, policy)  # the contract is checked before anything is sent
        report = IngestReport()
        bar = _progress(progress, target_index)
        sender = BulkSender(
            self.client, report, policy=policy, retry=retry or RetryPolicy(), where=self.where, progress=bar
        )
        run = IngestRun(
            self.encoder,
            sender,
            target,
            batch_size=self.batch_size,
            chunk_size=chunk_size,
            window=encode_window,
            unicode_errors=unicode_errors,
        )
        source = iter(documents)
        try:
            run.run(source)
        except StoreUnavailableError as exc:
            run.account_for_abort(source, f"Elasticsearch stopped answering mid-ingest: {exc}", "unacknowledged")
            warnings.warn(
                f"ingest stopped early: {report}; re-run the same documents to complete it (writes are "
                "idempotent by id)",
                RuntimeWarning,
                stacklevel=2,
            )
        except StoreAuthError as exc:
            run.account_for_abort(source, str(exc), "rejected")
            exc.report = report  # type: ignore[attr-defined]
            raise
        finally:
            if bar is not None:
                bar.close()
        self._refresh(target_index, refresh, report)
        if raise_on_error and not report.ok:
            raise IngestError(f"ingest into {target_index!r}: {report}", report.failures, report)
        return report

    def _target(self, index: str, policy: str) -> Target:
        """Where and how an ingest writes, from the index's checked contract."""
        stored = self.check_contract(index)
        return Target(
            index,
            stored.get("text_field", self.text_field),
            stored.get("vector_field", self.vector_field),
            "index" if policy == "overwrite" else "create",
            stored.get("similarity") == "dot_product",
        )

    def refresh(self, index: str | None = None) -> None:
        """Make everything written so far searchable now (otherwise: within the refresh interval)."""
        with self._errors("refreshing"):
            self.client.indices.refresh(index=index or self.index)

    def _refresh(self, target: str, refresh: bool, report: IngestReport) -> None:
        if not refresh or not (report.indexed or report.duplicates):
            return
        with contextlib.suppress(VectorStoreError):  # stored anyway; visible within the refresh interval
            self.refresh(target)

    # -- documents by id --------------------------------------------------------
    def get(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored sources (without the vector) of the ids that exist."""
        if not ids:
            return {}
        with self._errors("getting documents"):
            found = self.client.mget(index=self.index, ids=list(ids), source_excludes=[self.vector_field]).body
        return {d["_id"]: dict(d.get("_source", {})) for d in found["docs"] if d.get("found")}

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many existed."""
        return self._bulk_by_id("deleting documents", ids, {"_op_type": "delete"})

    def update_metadata(self, ids: Sequence[str], fields: Mapping[str, Any]) -> int:
        """Set metadata fields without re-embedding; returns how many documents were updated."""
        if self.text_field in fields or self.vector_field in fields:
            raise InputError(
                f"update_metadata cannot change {self.text_field!r} or {self.vector_field!r}: the "
                "vector depends on the text; re-ingest the document instead"
            )
        return self._bulk_by_id("updating metadata", ids, {"_op_type": "update", "doc": dict(fields)})

    def _bulk_by_id(self, what: str, ids: Sequence[str], action: Mapping[str, Any]) -> int:
        """One bulk action per id (refreshed after); returns how many succeeded (a missing id fails)."""
        from elasticsearch import helpers

        actions = ({**action, "_index": self.index, "_id": i} for i in ids)
        with self._errors(what):
            results = helpers.streaming_bulk(self.client, actions, raise_on_error=False, refresh=True)
            return sum(1 for ok, _ in results if ok)

    # -- filters, counts ---------------------------------------------------------
    def _filters(self, filter: Filters, raw_filter: RawFilter, stored: Mapping[str, Any]) -> bodies.Clauses:
        clauses = bodies.raw_clauses(raw_filter)
        if filter is not None:
            properties = stored.get("_properties", {})
            clauses += Filter(filter).to_dsl(lambda name: _keyword_field(properties, name))
        return clauses

    def count(self, filter: Filters = None, *, raw_filter: RawFilter = None) -> int:
        stored = self.check_contract()
        return self._count_query(bodies.filter_query(self._filters(filter, raw_filter, stored)))

    def delete_by_filter(self, filter: Filters = None, *, raw_filter: RawFilter = None) -> int:
        """Delete the documents matching the filter; an empty filter is refused (it would delete all)."""
        stored = self.check_contract()
        clauses = self._filters(filter, raw_filter, stored)
        if not clauses:
            raise ConfigError("delete_by_filter needs a non-empty filter; to empty the index, delete and recreate it")
        query = bodies.filter_query(clauses)
        try:
            with self._errors("deleting by filter"):
                return int(self.client.delete_by_query(index=self.index, query=query, refresh=True).body["deleted"])
        except VectorStoreError as exc:
            if "no handler found" not in str(exc):
                raise
        return self._delete_matching(query)  # distributions without the reindex module (e.g. the test zip)

    def _delete_matching(self, query: dict[str, Any], page: int = 1000) -> int:
        """Search the matching ids and bulk-delete them, a page at a time (bounded by the count)."""
        deleted = 0
        for _ in range(self._count_query(query) // page + 2):
            with self._errors("finding documents to delete"):
                hits = self.client.search(index=self.index, query=query, size=page, source=False).body["hits"]["hits"]
            if not hits:
                break
            deleted += self.delete([h["_id"] for h in hits])
        return deleted

    def _count_query(self, query: dict[str, Any]) -> int:
        with self._errors("counting"):
            return int(self.client.count(index=self.index, query=query).body["count"])

    # -- queries ---------------------------------------------------------------
    def _query_vector(self, text: str, stored: Mapping[str, Any]) -> list[float]:
        vector = self.encoder.encode(
            [text],
            normalize=stored.get("similarity") == "dot_product",
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
    ) -> list[SearchResult]:
        """Approximate kNN (exact on ``flat`` indices), among documents matching the filters."""
        stored = self.check_contract()
        body = bodies.knn_body(
            self._query_vector(query, stored),
            k=k,
            num_candidates=num_candidates,
            vector_field=stored.get("vector_field", self.vector_field),
            filters=self._filters(filter, raw_filter, stored),
            min_similarity=min_similarity,
            source=self._source_filter(stored),
        )
        return self._hits(self._search(body))

    search = knn  # the VectorStore protocol name

    def bm25(
        self, query: str, k: int = 10, *, filter: Filters = None, raw_filter: RawFilter = None
    ) -> list[SearchResult]:
        stored = self.check_contract()
        body = bodies.bm25_body(
            query,
            size=k,
            text_field=stored.get("text_field", self.text_field),
            filters=self._filters(filter, raw_filter, stored),
            source=self._source_filter(stored),
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

    def _source_filter(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        return {"excludes": [stored.get("vector_field", self.vector_field)]}  # the vector is large, rarely wanted

    @staticmethod
    def _hits(response: Mapping[str, Any]) -> list[SearchResult]:
        return [
            SearchResult(h["_id"], float(h["_score"]), dict(h.get("_source", {}))) for h in response["hits"]["hits"]
        ]

    # -- zero-downtime re-embedding ---------------------------------------------
    def reembed(
        self,
        documents: Iterable[Any],
        encoder: Encoder | None = None,
        *,
        delete_old: bool = False,
        **create_options: Any,
    ) -> str:
        """Build a new index with ``encoder``, then swap the alias ``self.index`` to it atomically."""
        alias, new_encoder = self.index, encoder or self.encoder
        with self._errors("reading the alias"):
            found = self.client.options(ignore_status=404).indices.get_alias(name=alias).body
            old = [] if "error" in found or "status" in found else list(found)
            if self.client.indices.exists(index=alias) and not old:
                raise ConfigError(
                    f"{alias!r} is a concrete index, not an alias; re-embedding needs an alias. Create "
                    "indices with create_alias_index() to use reembed()."
                )
        builder = ElasticsearchStore(
            alias,
            new_encoder,
            client=self.client,
            text_field=self.text_field,
            vector_field=self.vector_field,
            batch_size=self.batch_size,
        )
        new = builder.create_index(
            name=f"{alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.time_ns() % 10**6:06d}", **create_options
        )
        report = builder.ingest(documents, index=new)
        with self._errors("swapping the alias"):
            if not report.ok:
                self.client.indices.delete(index=new)
                raise IngestError(
                    f"re-embedding into {new!r} failed, alias {alias!r} unchanged: {report}", report.failures, report
                )
            swap = [{"remove": {"index": i, "alias": alias}} for i in old] + [{"add": {"index": new, "alias": alias}}]
            self.client.indices.update_aliases(actions=swap)
            self.encoder = new_encoder
            if delete_old and old:
                self.client.indices.delete(index=",".join(old))
        return new

    def create_alias_index(self, **create_options: Any) -> str:
        """Create a versioned index behind the alias ``self.index`` (so reembed() can swap it)."""
        return self.reembed([], **create_options)


def _keyword_field(properties: Mapping[str, Any], name: str) -> str:
    """Filter on a text field's ``.keyword`` sub-field (exact values), as dynamic mapping creates it."""
    field = properties.get(name) or {}
    if field.get("type") == "text" and "keyword" in (field.get("fields") or {}):
        return f"{name}.keyword"
    return name


def _progress(on: bool, index: str) -> Any:
    if not on:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc=f"ingest {index}", unit="doc")
