"""The built-in exact in-memory vector store (the reference for ANN recall, and for tests).

It implements the same :class:`VectorStore` protocol as the Elasticsearch store,
so application code can switch stores; filters use the same safe form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._base.documents import Document
from .._base.errors import EmbeddingContractError, InputError
from .._base.filters import Filter, as_filter
from .._base.protocols import Encoder, IngestReport, SearchResult
from .ingest import check_duplicate_policy, document_windows, embed_documents, query_prompt_name, report_existing_id
from .similarity import semantic_search


class InMemoryStore:
    """Exact cosine search over documents embedded with one encoder."""

    def __init__(self, encoder: Encoder, *, batch_size: int | None = None, text_field: str = "text") -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.text_field = text_field
        self._docs: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
        self._matrix: tuple[list[str], np.ndarray] | None = None  # rebuilt after any change

    def __len__(self) -> int:
        return len(self._docs)

    def _changed(self) -> None:
        self._matrix = None

    # -- writing ---------------------------------------------------------------
    def ingest(
        self,
        documents: Iterable[Any],
        *,
        on_duplicate: str = "overwrite",
        unicode_errors: str = "strict",
        window: int = 2000,
    ) -> IngestReport:
        """Embed and store documents (dicts, ``(id, text[, metadata])`` tuples or Documents), reporting each."""
        policy = check_duplicate_policy(on_duplicate)
        report = IngestReport()
        seen: set[str] = set()  # ids met in this ingest
        written: set[str] = set()  # ids stored by this ingest
        for docs in document_windows(
            documents, window, report, text_field=self.text_field, unicode_errors=unicode_errors
        ):
            docs, vectors = embed_documents(self.encoder, docs, batch_size=self.batch_size, report=report)
            for doc, vector in zip(docs, vectors, strict=True):
                self._store_one(doc, vector, policy, (seen, written), report)
        self._changed()
        return report

    def _store_one(
        self, doc: Document, vector: np.ndarray, policy: str, ids: tuple[set[str], set[str]], report: IngestReport
    ) -> None:
        seen, written = ids
        repeated = doc.id in seen
        seen.add(doc.id)
        if doc.id in self._docs and policy != "overwrite":
            report_existing_id(report, doc.id, policy, repeated=repeated)
            return
        self._docs[doc.id] = (vector, {**doc.metadata, self.text_field: doc.text})
        if doc.id in written:  # a later occurrence overwrote an earlier one of this ingest
            report.duplicates.append(doc.id)
            return
        written.add(doc.id)
        report.indexed += 1
        report.indexed_ids.append(doc.id)

    def add(
        self,
        texts: Iterable[str],
        ids: Iterable[Any] | None = None,
        metadata: Iterable[Mapping[str, Any]] | None = None,
    ) -> list[str]:
        """Add texts (ids default to running numbers); refuses ids already stored. Returns the ids."""
        texts = list(texts)
        ids = [str(i) for i in ids] if ids is not None else [str(len(self) + n) for n in range(len(texts))]
        rows = [dict(m) for m in metadata] if metadata is not None else [{} for _ in texts]
        if not len(ids) == len(texts) == len(rows):
            raise InputError(
                f"got {len(texts)} texts, {len(ids)} ids and {len(rows)} metadata rows; they must have the same length"
            )
        clash = sorted(set(ids) & set(self._docs))
        if clash:
            raise InputError(f"ids already stored: {clash[:10]}; remove them first or use new ids")
        report = self.ingest([Document(i, t, m) for i, t, m in zip(ids, texts, rows, strict=True)], on_duplicate="fail")
        if report.failures:
            raise InputError(
                f"could not add every text: {report}", indices=[ids.index(f.id) for f in report.failures if f.id in ids]
            )
        return ids

    def add_vectors(self, ids: Sequence[str], vectors: np.ndarray, sources: Sequence[Mapping[str, Any]]) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.encoder.dimension:
            raise EmbeddingContractError(
                f"vectors of shape {vectors.shape} do not fit this store "
                f"(dims={self.encoder.dimension}, model {self.encoder.name!r})"
            )
        for doc_id, vector, source in zip(ids, vectors, sources, strict=True):
            self._docs[str(doc_id)] = (vector.copy(), dict(source))
        self._changed()

    def update_metadata(self, ids: Sequence[str], fields: Mapping[str, Any]) -> int:
        """Set metadata fields on stored documents without re-embedding; returns how many were found."""
        if self.text_field in fields:
            raise InputError(f"update_metadata cannot change {self.text_field!r}: the vector depends on it; re-ingest")
        found = [i for i in ids if i in self._docs]
        for doc_id in found:
            self._docs[doc_id][1].update(fields)
        return len(found)

    def delete(self, ids: Sequence[str]) -> int:
        removed = sum(self._docs.pop(i, None) is not None for i in ids)
        self._changed()
        return removed

    def delete_by_filter(self, filter: Mapping[str, Any] | Filter) -> int:
        return self.delete(self._matching(Filter(filter)))

    # -- reading ---------------------------------------------------------------
    def _matching(self, where: Filter | None) -> list[str]:
        return [i for i, (_, src) in self._docs.items() if where is None or where.matches(src)]

    def get(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {i: dict(self._docs[i][1]) for i in ids if i in self._docs}

    def count(self, filter: Mapping[str, Any] | Filter | None = None) -> int:
        return len(self._docs) if filter is None else len(self._matching(Filter(filter)))

    def search(
        self, query: str, k: int = 10, *, filter: Mapping[str, Any] | Filter | None = None
    ) -> list[SearchResult]:
        """Exact top-k by cosine, among the documents that match ``filter`` (safe form)."""
        ids = self._matching(as_filter(filter))
        if not ids:
            return []
        if self._matrix is None:
            self._matrix = (list(self._docs), np.stack([v for v, _ in self._docs.values()]))
        order, matrix = self._matrix
        position = {doc_id: n for n, doc_id in enumerate(order)}
        rows = matrix[[position[i] for i in ids]]
        vector = self.encoder.encode([query], prompt_name=query_prompt_name(self.encoder.prompts))
        similarity = getattr(self.encoder, "similarity_fn_name", "cosine")  # the model's, as the ES mapping
        hits = semantic_search(vector, rows, top_k=k, similarity=similarity)[0]
        return [SearchResult(ids[h.corpus_id], h.score, dict(self._docs[ids[h.corpus_id]][1])) for h in hits]
