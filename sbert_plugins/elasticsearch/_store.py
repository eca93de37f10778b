"""ElasticsearchStore: create, ingest, query, manage and re-embed dense_vector indices (8.x and 9.x).

The class is assembled from three layers, each using only the ones before it: ``_index.IndexOps``
(connection, index, contract), ``_reads.Reads`` (documents, counts, queries) and ``_writes.Writes``
(ingest, deletes, updates, re-embedding)."""

from __future__ import annotations

from ._writes import Writes


class ElasticsearchStore(Writes):
    """One index (or alias) of documents embedded with one encoder.

    The encoder's contract (model, fingerprint, dims, pooling, normalize, prompts) lives in
    the mapping's ``_meta`` and is checked, with the live ``dense_vector`` mapping, before
    every ingest and query. ``filter=`` takes the safe form (``{field: value | [values] |
    {range}}``, for end-user input); ``raw_filter=`` takes query DSL from application code.
    """
