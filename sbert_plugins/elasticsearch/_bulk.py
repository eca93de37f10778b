"""Sending embedded documents with ``helpers.streaming_bulk``, accounting for every one.

Each chunk is sent with one ``streaming_bulk`` call. Documents the cluster rejects
with 429 (overloaded) are re-sent after an exponential backoff that this module
drives itself, so every retry and the total wait are logged, counted in the report
and capped (``max_wait``). Each answer is classified: indexed, a repeat of an id
already written in this run (``duplicates``), an existing id (``skipped`` or a
failure, per ``on_duplicate``), or a failure with Elasticsearch's reason.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sbert_plugins import Document, Failure, IngestReport, StoreAuthError, VectorStoreError, report_existing_id

from ._client import blocked_message, es_errors
from ._vectors import VectorForm

log = logging.getLogger("sbert_plugins.elasticsearch")
AUTH_STATUSES = (401, 403)
MAX_CHUNK_BYTES = 10 * 1024 * 1024  # per bulk request: several large documents never share one
TOO_LARGE = 413


@dataclass(frozen=True)
class RetryPolicy:
    """429 handling: up to ``max_retries`` re-sends per chunk, waiting ``initial_backoff * 2**n`` seconds
    (at most ``max_backoff`` each, ``max_wait`` in total per ingest) before each."""

    max_retries: int = 5
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    max_wait: float = 300.0

    def wait(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1)))


def reason_of(info: Mapping[str, Any]) -> str:
    error = info.get("error") or info.get("exception") or info
    reason = f"{error.get('type', 'error')}: {error.get('reason', error)}" if isinstance(error, Mapping) else str(error)
    status = info.get("status")
    return f"{reason} (status {status})" if status else reason


def _action_bytes(action: Mapping[str, Any]) -> int:
    source = json.dumps(action.get("_source", {}), ensure_ascii=False, separators=(",", ":"))  # as the client sends it
    return len(source.encode("utf-8", "surrogatepass"))


def make_actions(
    docs: Sequence[Document],
    vectors: np.ndarray,
    *,
    index: str,
    text_field: str,
    vector_field: str,
    op: str,
    unit: bool,
    form: VectorForm | None = None,
) -> list[dict[str, Any]]:
    """Bulk actions for embedded documents (``op`` is ``index`` to overwrite, ``create`` otherwise); the
    vectors as the index stores them (``form``: float, byte or bit, and the float copy)."""
    if unit:  # dot_product indices reject non-unit vectors; make the contract hold exactly
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    form = form or VectorForm()
    return [
        {
            "_op_type": op,
            "_index": index,
            "_id": doc.id,
            "_source": {**doc.metadata, text_field: doc.text, **form.fields(vector_field, vector)},
        }
        for doc, vector in zip(docs, vectors, strict=True)
    ]


class BulkSender:
    """Sends chunks of actions for one ingest and fills its report."""

    def __init__(
        self,
        client: Any,
        report: IngestReport,
        *,
        policy: str,
        retry: RetryPolicy,
        where: str,
        progress: Any = None,
        max_chunk_bytes: int = MAX_CHUNK_BYTES,
    ) -> None:
        # 429s are retried here, with our backoff; the transport must not retry them too
        self.client = client.options(retry_on_status=(502, 503, 504))
        self.report, self.policy, self.retry, self.where = report, policy, retry, where
        self.progress, self.max_chunk_bytes = progress, max_chunk_bytes
        self.acked: set[str] = set()  # ids written by this ingest
        self.seen: set[str] = set()  # ids answered for in this ingest
        self.inflight: list[dict[str, Any]] = []  # the attempt on the wire: unacknowledged if the server goes away

    def send(self, actions: list[dict[str, Any]]) -> None:
        """Send one chunk; 429s are re-sent with backoff; raises StoreAuthError on 401/403."""
        pending = actions
        for attempt in range(self.retry.max_retries + 1):
            if attempt and not self._backoff(attempt, len(pending)):
                break
            self.inflight = pending
            pending = self._attempt(pending, last=attempt == self.retry.max_retries)
            self.inflight = []
            if not pending:
                return
        for action in pending:
            self._fail(
                action["_id"],
                f"rejected with 429 (cluster overloaded) after {self.report.retries} "
                f"retries and {self.report.waited_seconds:.1f} s of backoff; re-run to complete",
                "rejected",
            )

    def _backoff(self, attempt: int, count: int) -> bool:
        wait = self.retry.wait(attempt)
        if self.report.waited_seconds + wait > self.retry.max_wait:
            log.warning("429 backoff budget of %.0f s used up; %d documents stay rejected", self.retry.max_wait, count)
            return False
        log.warning(
            "%d documents rejected with 429 by %s (overloaded); retry %d/%d in %.1f s (%.1f s waited so far)",
            count,
            self.where,
            attempt,
            self.retry.max_retries,
            wait,
            self.report.waited_seconds,
        )
        if self.progress is not None:
            self.progress.set_postfix(
                retries=self.report.retries + 1, waited=f"{self.report.waited_seconds + wait:.0f}s"
            )
        time.sleep(wait)
        self.report.retries += 1
        self.report.waited_seconds += wait
        return True

    def _attempt(self, actions: list[dict[str, Any]], last: bool) -> list[dict[str, Any]]:
        from elasticsearch import helpers

        retry: list[dict[str, Any]] = []
        denied: list[str] = []
        with es_errors("bulk indexing", self.where):
            results = helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=len(actions),
                max_chunk_bytes=self.max_chunk_bytes,
                max_retries=0,
                raise_on_error=False,
                # request-level API errors (a 429 from indexing pressure, a 403) come back per action, so
                # they take the same paths as item-level ones; transport errors still raise
                raise_on_exception=False,
                yield_ok=True,
            )
            for action, (ok, item) in zip(actions, results, strict=True):
                info: Mapping[str, Any] = next(iter(item.values()), {})
                status = info.get("status")
                if not ok and self._refused_for_size(status, info, action):
                    self._fail(action["_id"], self._size_reason(action, info), "too_large")
                    continue
                if not ok and status == 429 and not last:
                    retry.append(action)
                    continue
                if not ok and status in AUTH_STATUSES:
                    denied.append(reason_of(info))
                self._classify(action["_id"], ok, info)
        if denied:
            self.inflight = []  # every action of this attempt is classified already
            blocked = blocked_message("bulk indexing", self.where, denied[0])
            if blocked:
                raise VectorStoreError(blocked)
            raise StoreAuthError(
                f"bulk indexing: {self.where} refused the writes ({denied[0]}); check the user's privileges "
                "('write' and 'create_index' on the index) and, for a licence error, the cluster's licence"
            )
        return retry

    def _refused_for_size(self, status: Any, info: Mapping[str, Any], action: Mapping[str, Any]) -> bool:
        """A 413, or a 429 for memory (indexing pressure, a circuit breaker) on a document sent alone because it
        is over max_chunk_bytes: about its size, so retrying is futile. A full queue's 429 is retried."""
        if status == TOO_LARGE:
            return True
        reason = reason_of(info).lower()
        words = ("indexing_pressure", "indexing pressure", "coordinating_and_primary_bytes", "memory", "circuit_break")
        memory = any(word in reason for word in words)
        return status == 429 and memory and _action_bytes(action) > self.max_chunk_bytes

    def _size_reason(self, action: Mapping[str, Any], info: Mapping[str, Any]) -> str:
        size = _action_bytes(action)
        return (
            f"document of {size / 1e6:.1f} MB refused even when sent alone ({reason_of(info)}): too large for the "
            "server (http.max_content_length, indexing_pressure.memory.limit); shorten or split its text"
        )

    def _classify(self, doc_id: str, ok: bool, info: Mapping[str, Any]) -> None:
        if self.progress is not None:
            self.progress.update(1)
        repeated = doc_id in self.seen
        self.seen.add(doc_id)
        if ok:
            if doc_id in self.acked:
                self.report.duplicates.append(doc_id)  # overwrote an earlier occurrence of this ingest
                return
            self.acked.add(doc_id)
            self.report.indexed += 1
            self.report.indexed_ids.append(doc_id)
        elif info.get("status") == 409:  # op_type=create under skip / fail: the id exists
            report_existing_id(self.report, doc_id, self.policy, repeated=repeated)
        else:
            self._fail(doc_id, reason_of(info), "rejected")

    def _fail(self, doc_id: str | None, reason: str, kind: Any) -> None:
        self.report.failures.append(Failure(doc_id, reason, kind))
