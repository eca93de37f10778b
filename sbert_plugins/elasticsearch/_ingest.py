"""One ingest run: read and embed windows of documents (the next window is embedded while the
current one is sent), send them in chunks, and account for every document if the run stops early."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from sbert_plugins import Document, Encoder, Failure, IngestReport, document_windows, drain_unsent, embed_documents

from ._bulk import BulkSender, make_actions
from ._vectors import VectorForm

Embedded = tuple[list[Document], np.ndarray]


@dataclass(frozen=True)
class Target:
    """Where and how documents are written (from the index's contract)."""

    index: str
    text_field: str
    vector_field: str
    op: str  # "index" (overwrite) or "create" (skip / fail on existing ids)
    unit: bool  # dot_product index: vectors must be unit length
    form: VectorForm  # float, byte or bit, and the float copy kept for rescoring


class IngestRun:
    """State of one ingest: what is on the wire, what waits to be sent, what is being embedded."""

    def __init__(
        self,
        encoder: Encoder,
        sender: BulkSender,
        target: Target,
        *,
        batch_size: int | None,
        chunk_size: int,
        window: int,
        unicode_errors: str,
    ) -> None:
        self.encoder, self.sender, self.target = encoder, sender, target
        self.report: IngestReport = sender.report
        self.batch_size, self.chunk_size, self.window = batch_size, chunk_size, max(window, chunk_size)
        self.unicode_errors = unicode_errors
        self.queued: list[dict[str, Any]] = []  # actions of the current window not yet handed to the sender
        self.upcoming: Future[Embedded] | None = None  # the next window, being embedded

    def _embed(self, docs: list[Document]) -> Embedded:
        return embed_documents(self.encoder, docs, batch_size=self.batch_size, report=self.report)

    def run(self, source: Iterator[Any]) -> None:
        """Embed window n+1 in a worker thread (torch releases the GIL) while window n is sent."""
        windows = document_windows(
            source, self.window, self.report, text_field=self.target.text_field, unicode_errors=self.unicode_errors
        )
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sbert-encode") as pool:
            ready: Future[Embedded] | None = None
            for docs in windows:
                self.upcoming = pool.submit(self._embed, docs)
                if ready is not None:
                    self._send(*ready.result())
                ready, self.upcoming = self.upcoming, None
            if ready is not None:
                self._send(*ready.result())

    def _send(self, docs: list[Document], vectors: np.ndarray) -> None:
        target = self.target
        self.queued = make_actions(
            docs,
            vectors,
            index=target.index,
            text_field=target.text_field,
            vector_field=target.vector_field,
            op=target.op,
            unit=target.unit,
            form=target.form,
        )
        while self.queued:
            chunk, self.queued = self.queued[: self.chunk_size], self.queued[self.chunk_size :]
            self.sender.send(chunk)

    def account_for_abort(self, source: Iterator[Any], reason: str, inflight_kind: Any) -> None:
        """The run stopped: list what was on the wire, what was queued or embedding, and what was never read."""
        report = self.report
        report.error = reason
        fail = report.failures.append
        for action in self.sender.inflight:
            fail(Failure(action["_id"], f"not acknowledged: {reason}", inflight_kind))
        not_sent = f"not sent: the run stopped ({reason})"
        for action in self.queued:
            fail(Failure(action["_id"], not_sent, "not_sent"))
        if self.upcoming is not None:
            for doc in self.upcoming.result()[0]:
                fail(Failure(doc.id, not_sent, "not_sent"))
        drain_unsent(source, report, not_sent)
