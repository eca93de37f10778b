"""Writes: ingest with a per-document report, deletes, metadata updates and zero-downtime re-embedding."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sbert_plugins import (
    ConfigError,
    Encoder,
    IngestError,
    IngestReport,
    InputError,
    StoreAuthError,
    StoreUnavailableError,
    VectorStoreError,
    check_duplicate_policy,
)

from . import _bodies as bodies
from ._bulk import MAX_CHUNK_BYTES, BulkSender, RetryPolicy
from ._ingest import IngestRun, Target
from ._reads import Filters, RawFilter, Reads
from ._vectors import VectorForm, float_copy_field


class Writes(Reads):
    """Ingest, deletes, metadata updates and re-embedding behind an alias."""

    def ingest(
        self,
        documents: Iterable[Any],
        *,
        on_duplicate: str = "overwrite",
        chunk_size: int = 500,
        max_chunk_bytes: int = MAX_CHUNK_BYTES,
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
        that, not by the input) and sent ``chunk_size`` per bulk request, and at most ``max_chunk_bytes``
        per request (10 MiB; a larger document goes alone, and one the server still refuses for its
        size fails as ``too_large`` without taking its neighbours with it). ``on_duplicate``:
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
            self.client,
            report,
            policy=policy,
            retry=retry or RetryPolicy(),
            where=self.where,
            progress=bar,
            max_chunk_bytes=max_chunk_bytes,
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
        form = VectorForm.from_contract(stored)
        return Target(
            index,
            stored.get("text_field", self.text_field),
            stored.get("vector_field", self.vector_field),
            "index" if policy == "overwrite" else "create",
            form.unit(stored.get("similarity")),
            form,
        )

    def _refresh(self, target: str, refresh: bool, report: IngestReport) -> None:
        if not refresh or not (report.indexed or report.duplicates):
            return
        with contextlib.suppress(VectorStoreError):  # stored anyway; visible within the refresh interval
            self.refresh(target)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many existed."""
        return self._bulk_by_id("deleting documents", ids, {"_op_type": "delete"})

    def update_metadata(self, ids: Sequence[str], fields: Mapping[str, Any]) -> int:
        """Set metadata fields without re-embedding; returns how many documents were updated."""
        if {self.text_field, self.vector_field, float_copy_field(self.vector_field)} & set(fields):
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
        builder = type(self)(
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


def _progress(on: bool, index: str) -> Any:
    if not on:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc=f"ingest {index}", unit="doc")
