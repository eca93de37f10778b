"""Ingest: bounded-memory batches -> embeddings -> helpers.streaming_bulk, with a full report."""
from __future__ import annotations

import functools
import itertools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import numpy as np

Doc = Tuple[str, str, Dict[str, Any]]


@dataclass
class Failure:
    id: Optional[str]
    reason: str


@dataclass
class IngestReport:
    """What happened to every document: nothing is silently lost."""

    indexed: int = 0
    failures: List[Failure] = field(default_factory=list)
    error: Optional[str] = None  # set when the run stopped early (server unreachable)

    @property
    def failed_ids(self) -> List[Optional[str]]:
        return [f.id for f in self.failures]

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        head = f"{self.indexed} indexed, {len(self.failures)} failed"
        shown = "; ".join(f"{f.id}: {f.reason}" for f in self.failures[:5])
        return head + (f" ({shown}{' ...' if len(self.failures) > 5 else ''})" if shown else "")


def normalize_doc(raw: Any, text_field: str) -> Doc:
    """Accept ``{"id", text_field, ...metadata}`` dicts or ``(id, text[, metadata])`` tuples."""
    if isinstance(raw, Mapping):
        meta = {k: v for k, v in raw.items() if k not in ("id", "_id", text_field)}
        doc_id, text = raw.get("id", raw.get("_id")), raw.get(text_field)
    elif isinstance(raw, (tuple, list)) and len(raw) in (2, 3):
        doc_id, text = raw[0], raw[1]
        meta = dict(raw[2]) if len(raw) == 3 and raw[2] is not None else {}
    else:
        raise ValueError(f"a document must be a dict or an (id, text[, metadata]) tuple, got {raw!r:.80}")
    if doc_id is None or str(doc_id) == "":
        raise ValueError(f"document has no id (needed for idempotent re-runs): {raw!r:.80}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"document {doc_id!r} has no usable {text_field!r}: {text!r:.60}")
    return str(doc_id), text, meta


def batches(docs: Iterable[Any], size: int) -> Iterator[List[Any]]:
    iterator = iter(docs)
    while True:
        batch = list(itertools.islice(iterator, size))
        if not batch:
            return
        yield batch


def actions(docs: Iterable[Any], encode, *, index: str, text_field: str, vector_field: str,
            batch_size: int, report: IngestReport, unit: bool,
            pending: "Dict[str, None]") -> Iterator[Dict[str, Any]]:
    """Bulk actions, encoding ``batch_size`` docs at a time (memory stays bounded).

    The next window is encoded in a worker thread while the current one is sent
    (torch releases the GIL), so encoding and bulk requests overlap. Every valid
    id read goes into ``pending`` until the server acknowledges it, so a run that
    dies midway can say exactly which documents did not land.
    """
    emit = functools.partial(_emit, index=index, text_field=text_field, vector_field=vector_field, unit=unit)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sbert-encode") as pool:
        ready: Optional[Tuple[List[Doc], Future]] = None
        for batch in batches(docs, batch_size):
            good = _valid(batch, text_field, report)
            if not good:
                continue
            pending.update((doc_id, None) for doc_id, _, _ in good)
            upcoming = (good, pool.submit(encode, [text for _, text, _ in good]))
            if ready is not None:
                yield from emit(*ready)
            ready = upcoming
        if ready is not None:
            yield from emit(*ready)


def _valid(batch: List[Any], text_field: str, report: IngestReport) -> List[Doc]:
    good: List[Doc] = []
    for raw in batch:
        try:
            good.append(normalize_doc(raw, text_field))
        except ValueError as exc:
            report.failures.append(Failure(raw_id(raw), f"invalid document: {exc}"))
    return good


def _emit(good: List[Doc], future: Future, *, index: str, text_field: str, vector_field: str,
          unit: bool) -> Iterator[Dict[str, Any]]:
    vectors = future.result()
    if unit:  # dot_product indices reject non-unit vectors; make the contract hold exactly
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    for (doc_id, text, meta), vector in zip(good, vectors):
        yield {"_op_type": "index", "_index": index, "_id": doc_id,
               "_source": {**meta, text_field: text, vector_field: vector.tolist()}}


def raw_id(raw: Any) -> Optional[str]:
    if isinstance(raw, Mapping):
        value = raw.get("id", raw.get("_id"))
    elif isinstance(raw, (tuple, list)) and raw:
        value = raw[0]
    else:
        value = None
    return None if value is None else str(value)


def failure_from_item(item: Mapping[str, Any]) -> Failure:
    """A streaming_bulk error item -> (id, reason)."""
    op = next(iter(item.values())) if item else {}
    error = op.get("error") or op.get("exception") or op
    if isinstance(error, Mapping):
        reason = f"{error.get('type', 'error')}: {error.get('reason', error)}"
    else:
        reason = str(error)
    status = op.get("status")
    return Failure(op.get("_id"), f"{reason} (status {status})" if status else reason)
