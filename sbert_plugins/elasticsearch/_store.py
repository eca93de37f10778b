"""ElasticsearchStore: create, ingest, query and re-embed dense_vector indices."""
from __future__ import annotations

import time
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional

from .._errors import (ConfigError, EmbeddingContractError, IngestError, StoreUnavailableError,
                       VectorStoreError)
from .._store import SearchResult
from . import _bodies as bodies
from ._ingest import Failure, IngestReport, actions, failure_from_item, raw_id

START_HINT = "start one with `bash integrations/elasticsearch/es.sh start` or pass the right URL"


def client_major() -> int:
    import elasticsearch

    return int(elasticsearch.__versionstr__.split(".")[0])


def check_versions(client_version: str, server_version: str) -> None:
    """Client and server majors must match; say exactly what to install if not."""
    client, server = int(client_version.split(".")[0]), int(server_version.split(".")[0])
    if client != server:
        raise VectorStoreError(
            f"Elasticsearch server is {server_version} but the Python client is {client_version}; install the "
            f"matching client: pip install 'elasticsearch>={server},<{server + 1}'")


def connect(url: str = "http://127.0.0.1:9200", **client_options: Any):
    """An ``Elasticsearch`` client that has answered once, with matching majors."""
    import elasticsearch
    from elasticsearch import Elasticsearch

    client = Elasticsearch(url, **{"request_timeout": 30, **client_options})
    server_version = server_version_of(client, url)
    check_versions(elasticsearch.__versionstr__, server_version)
    return client


def server_version_of(client, url: str = "") -> str:
    from elastic_transport import ConnectionError as TransportConnectionError
    from elasticsearch import ApiError, UnsupportedProductError

    try:  # /_nodes works on every distribution (the minimal one lacks GET /)
        nodes = client.nodes.info(node_id="_local", metric="_none", filter_path="nodes.*.version")
    except TransportConnectionError as exc:
        raise StoreUnavailableError(f"cannot reach Elasticsearch at {url or client}: {exc}; {START_HINT}") from exc
    except UnsupportedProductError as exc:
        raise VectorStoreError(f"{url} is not an Elasticsearch server: {exc}") from exc
    except ApiError as exc:
        if "compatible-with" in str(exc) or getattr(exc, "status_code", 0) in (400, 406):
            raise VectorStoreError(f"the server refused this client's version ({exc}); install the client "
                                   "whose major matches the server: pip install 'elasticsearch>=8,<9' for 8.x")
        raise
    versions = [n["version"] for n in nodes.body.get("nodes", {}).values()]
    return versions[0] if versions else "0.0.0"


def _consume(results, report: IngestReport, pending: Dict[str, None]) -> None:
    """Tally streaming_bulk's per-document outcomes; acknowledged ids leave ``pending``."""
    for ok, item in results:
        pending.pop(next(iter(item.values()), {}).get("_id"), None)
        if ok:
            report.indexed += 1
        else:
            report.failures.append(failure_from_item(item))


class ElasticsearchStore:
    """One index (or alias) of documents embedded with one encoder.

    The encoder's contract (model, fingerprint, dims, pooling, normalize) lives in
    the mapping's ``_meta`` and is checked before every ingest and query.
    """

    def __init__(self, index: str, encoder=None, *, client=None, url: str = "http://127.0.0.1:9200",
                 text_field: str = "text", vector_field: str = "embedding", batch_size: int = 64,
                 **client_options: Any) -> None:
        if encoder is None:
            from .._loading import shared_encoder

            encoder = shared_encoder()
        self.index, self.encoder = index, encoder
        self.text_field, self.vector_field = text_field, vector_field
        self.batch_size = batch_size
        self.client = client if client is not None else connect(url, **client_options)

    # -- index management ----------------------------------------------------
    def create_index(self, *, similarity: Optional[str] = None, index_type: str = "hnsw",
                     m: Optional[int] = None, ef_construction: Optional[int] = None,
                     metadata_mapping: Optional[Mapping[str, Any]] = None, shards: int = 1,
                     replicas: int = 0, name: Optional[str] = None, exist_ok: bool = False) -> str:
        """Create the index from the encoder: dims, similarity, index_options, contract in ``_meta``."""
        similarity = bodies.check_similarity(similarity or ("dot_product" if self.encoder.normalize else "cosine"),
                                             self.encoder.normalize)
        body = bodies.index_body(self.encoder.contract(), similarity=similarity,
                                 options=bodies.index_options(index_type, m, ef_construction),
                                 text_field=self.text_field, vector_field=self.vector_field,
                                 metadata_mapping=metadata_mapping, shards=shards, replicas=replicas)
        name = name or self.index
        if self.client.indices.exists(index=name):
            if not exist_ok:
                raise VectorStoreError(f"index {name!r} exists; pass exist_ok=True to reuse it (its contract "
                                       "is checked) or delete it first")
            self.check_contract(name)
            return name
        self.client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
        return name

    def stored_contract(self, index: Optional[str] = None) -> Dict[str, Any]:
        from elasticsearch import NotFoundError

        try:
            mapping = self.client.indices.get_mapping(index=index or self.index).body
        except NotFoundError as exc:
            raise VectorStoreError(f"index {index or self.index!r} does not exist; call create_index() "
                                   "first") from exc
        metas = [m["mappings"].get("_meta", {}).get(bodies.META_KEY) for m in mapping.values()]
        if not metas or any(meta is None for meta in metas):
            raise EmbeddingContractError(f"index {index or self.index!r} was not created by sbert-plugins "
                                         "(no embedding contract in its _meta); create it with create_index()")
        return metas[0]

    def check_contract(self, index: Optional[str] = None) -> Dict[str, Any]:
        """Refuse to read or write an index whose vectors come from another model/config."""
        stored = self.stored_contract(index)
        problems = bodies.contract_mismatch(stored, self.encoder.contract())
        if problems:
            raise EmbeddingContractError(f"index {index or self.index!r} does not match the encoder "
                                         f"{self.encoder.name!r}: " + "; ".join(problems) +
                                         ". Use the model it was built with, or re-embed with reembed().")
        return stored

    # -- ingest ----------------------------------------------------------------
    def ingest(self, documents: Iterable[Any], *, chunk_size: int = 500, encode_window: int = 2000,
               max_retries: int = 5,
               initial_backoff: float = 1.0, max_backoff: float = 30.0, refresh: bool = True,
               progress: bool = False, raise_on_error: bool = False, index: Optional[str] = None) -> IngestReport:
        """Embed and index documents (dicts or ``(id, text, metadata)``), idempotent by id.

        Documents are read and encoded ``encode_window`` at a time (memory is
        bounded by that, not by the input) and sent ``chunk_size`` per bulk request.
        429s are retried with exponential backoff by ``helpers.streaming_bulk``;
        every document that does not land is in the returned report.
        """
        from elastic_transport import ConnectionError as TransportConnectionError
        from elasticsearch import helpers

        target = index or self.index
        stored = self.check_contract(target)
        report, pending, source = IngestReport(), {}, iter(documents)
        stream = actions(source, lambda texts: self.encoder.encode(texts, batch_size=self.batch_size),
                         index=target, text_field=stored.get("text_field", self.text_field),
                         vector_field=stored.get("vector_field", self.vector_field),
                         batch_size=max(encode_window, chunk_size), report=report,
                         unit=stored.get("similarity") == "dot_product", pending=pending)
        # 429s are retried once, by streaming_bulk with its backoff; the transport must not retry them too
        # (it would multiply the attempts and put the node on dead-node timeouts).
        bulk_client = self.client.options(retry_on_status=(502, 503, 504))
        results = helpers.streaming_bulk(bulk_client, stream, chunk_size=chunk_size, max_retries=max_retries,
                                         initial_backoff=initial_backoff, max_backoff=max_backoff,
                                         raise_on_error=False, raise_on_exception=False, yield_ok=True)
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(results, desc=f"ingest {target}", unit="doc")
        try:
            _consume(results, report, pending)
        except TransportConnectionError as exc:
            self._account_for_abort(report, pending, source, exc)
        self._refresh(target, refresh, report)
        if raise_on_error and report.failures:
            raise IngestError(f"ingest into {target!r}: {report}", report.failures)
        return report

    @staticmethod
    def _account_for_abort(report: IngestReport, pending: Dict[str, None], rest: Iterable[Any], exc) -> None:
        """The server went away: list the in-flight docs and the ones never sent."""
        report.error = f"Elasticsearch unreachable mid-ingest: {exc}"
        report.failures.extend(Failure(i, f"not acknowledged: {report.error}") for i in pending)
        report.failures.extend(Failure(raw_id(raw), "not sent: the run stopped when Elasticsearch became "
                                       "unreachable") for raw in rest)
        warnings.warn(f"ingest stopped early: {report}; re-run the same documents to complete it "
                      "(writes are idempotent by id)", RuntimeWarning, stacklevel=3)

    def _refresh(self, target: str, refresh: bool, report: IngestReport) -> None:
        if not refresh or not report.indexed:
            return
        try:
            self.client.indices.refresh(index=target)
        except Exception:  # the docs are stored; visibility follows the refresh interval
            pass

    # -- queries ---------------------------------------------------------------
    def _query_vector(self, text: str, stored: Mapping[str, Any]) -> List[float]:
        return self.encoder.encode([text], normalize=stored.get("similarity") == "dot_product")[0].tolist()

    def knn(self, query: str, k: int = 10, *, num_candidates: Optional[int] = None, filter: bodies.Filter = None,
            min_similarity: Optional[float] = None) -> List[SearchResult]:
        """Approximate kNN (exact on ``flat`` / ``int8_flat`` indices)."""
        stored = self.check_contract()
        body = bodies.knn_body(self._query_vector(query, stored), k=k, num_candidates=num_candidates,
                               vector_field=stored.get("vector_field", self.vector_field), filter=filter,
                               min_similarity=min_similarity, source=self._source_filter(stored))
        return self._hits(self._search(body))

    def bm25(self, query: str, k: int = 10, *, filter: bodies.Filter = None) -> List[SearchResult]:
        stored = self.check_contract()
        body = bodies.bm25_body(query, size=k, text_field=stored.get("text_field", self.text_field), filter=filter,
                                source=self._source_filter(stored))
        return self._hits(self._search(body))

    def hybrid(self, query: str, k: int = 10, *, window: Optional[int] = None, num_candidates: Optional[int] = None,
               filter: bodies.Filter = None, rank_constant: int = 60) -> List[SearchResult]:
        """BM25 + kNN fused with reciprocal rank fusion (client side: works on every licence)."""
        window = window or max(k, 50)
        lexical = self.bm25(query, window, filter=filter)
        semantic = self.knn(query, window, num_candidates=num_candidates, filter=filter)
        sources = {h.id: h.source for h in lexical + semantic}
        fused = bodies.rrf_fuse([[h.id for h in lexical], [h.id for h in semantic]], k, rank_constant)
        return [SearchResult(doc_id, score, sources[doc_id]) for doc_id, score in fused]

    search = knn  # the VectorStore protocol name

    def _search(self, body: Dict[str, Any]) -> Dict[str, Any]:
        from elastic_transport import ConnectionError as TransportConnectionError

        try:
            return self.client.search(index=self.index, **body).body
        except TransportConnectionError as exc:
            raise StoreUnavailableError(f"Elasticsearch went away during a query: {exc}; {START_HINT}") from exc

    def _source_filter(self, stored: Mapping[str, Any]) -> Dict[str, Any]:
        # the vector is large and rarely wanted in results
        return {"excludes": [stored.get("vector_field", self.vector_field)]}

    @staticmethod
    def _hits(response: Mapping[str, Any]) -> List[SearchResult]:
        return [SearchResult(h["_id"], float(h["_score"]), dict(h.get("_source", {})))
                for h in response["hits"]["hits"]]

    # -- zero-downtime re-embedding ---------------------------------------------
    def reembed(self, documents: Iterable[Any], encoder=None, *, delete_old: bool = False,
                **create_options: Any) -> str:
        """Build a new index with ``encoder``, then swap the alias ``self.index`` to it atomically."""
        from elasticsearch import NotFoundError

        alias, new_encoder = self.index, encoder or self.encoder
        try:
            old = list(self.client.indices.get_alias(name=alias).body)
        except NotFoundError:
            old = []
        if self.client.indices.exists(index=alias) and not old:
            raise ConfigError(f"{alias!r} is a concrete index, not an alias; re-embedding needs an alias. "
                              "Create indices with create_alias_index() to use reembed().")
        builder = ElasticsearchStore(alias, new_encoder, client=self.client, text_field=self.text_field,
                                     vector_field=self.vector_field, batch_size=self.batch_size)
        new = builder.create_index(name=f"{alias}-{time.strftime('%Y%m%d%H%M%S')}-{int(time.time() * 1e3) % 1000:03d}",
                                   **create_options)
        report = builder.ingest(documents, index=new)
        if report.failures:
            self.client.indices.delete(index=new)
            raise IngestError(f"re-embedding into {new!r} failed, alias {alias!r} unchanged: {report}",
                              report.failures)
        swap = [{"remove": {"index": i, "alias": alias}} for i in old] + [{"add": {"index": new, "alias": alias}}]
        self.client.indices.update_aliases(actions=swap)
        self.encoder = new_encoder
        if delete_old and old:
            self.client.indices.delete(index=",".join(old))
        return new

    def create_alias_index(self, **create_options: Any) -> str:
        """Create a versioned index behind the alias ``self.index`` (so reembed() can swap it)."""
        return self.reembed([], **create_options)
