"""Ingest building blocks shared by every store: read documents in bounded windows, embed them,
and turn every per-document problem into a reported failure instead of an aborted run."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from .._base.documents import Document, parse_document, raw_id
from .._base.errors import ConfigError, InputError, SbertPluginsError
from .._base.protocols import DUPLICATE_POLICIES, Encoder, Failure, IngestReport

_DOCUMENT_PROMPTS = ("document", "passage", "corpus", "doc")


def query_prompt_name(prompts: Mapping[str, str]) -> str | None:
    """The prompt a store uses for queries, if the model declares one."""
    return "query" if "query" in prompts else None


def document_prompt_name(prompts: Mapping[str, str]) -> str | None:
    """The prompt a store uses for documents, if the model declares one."""
    return next((name for name in _DOCUMENT_PROMPTS if name in prompts), None)


def check_duplicate_policy(policy: str) -> str:
    """``policy`` if it is one of ``DUPLICATE_POLICIES`` (overwrite, skip, fail), else a ConfigError."""
    if policy not in DUPLICATE_POLICIES:
        raise ConfigError(f"on_duplicate={policy!r}; choose one of {DUPLICATE_POLICIES}")
    return policy


def report_existing_id(report: IngestReport, doc_id: str, policy: str, *, repeated: bool) -> None:
    """Account for a document whose id is already stored, under ``on_duplicate`` ``skip`` or ``fail``.

    ``repeated`` says the id came earlier in this same ingest (a ``duplicate``) rather than
    being stored before it (``skipped`` / ``exists``). Every store uses this, so reports agree."""
    if policy == "skip":
        (report.duplicates if repeated else report.skipped).append(doc_id)
    elif repeated:
        report.failures.append(Failure(doc_id, "duplicate id within this ingest (on_duplicate='fail')", "duplicate"))
    else:
        report.failures.append(Failure(doc_id, "id already stored (on_duplicate='fail')", "exists"))


def document_windows(
    documents: Iterable[Any],
    size: int,
    report: IngestReport,
    *,
    text_field: str = "text",
    unicode_errors: str = "strict",
) -> Iterator[list[Document]]:
    """Parsed documents, ``size`` raw documents at a time (memory stays bounded by ``size``).

    Every raw document is counted in ``report.received``; one that cannot be parsed
    (no id, id too long, empty or invalid text) becomes an ``invalid`` failure.
    """
    iterator = iter(documents)
    while True:
        batch = list(itertools.islice(iterator, size))
        if not batch:
            return
        report.received += len(batch)
        good = []
        for raw in batch:
            try:
                good.append(parse_document(raw, text_field, unicode_errors=unicode_errors))
            except InputError as exc:
                report.failures.append(Failure(raw_id(raw), f"invalid document: {exc}", "invalid"))
        if good:
            yield good


def embed_documents(
    encoder: Encoder, docs: list[Document], *, batch_size: int | None = None, report: IngestReport
) -> tuple[list[Document], np.ndarray]:
    """Vectors for ``docs``; a document the encoder refuses (e.g. ``long_texts='error'``, or a text its
    tokenizer fails on) becomes a failure in ``report`` and the others are embedded. Should the encoder
    fail on a batch in any other way, each document is tried alone, so only the ones it fails on fail."""
    prompt = document_prompt_name(encoder.prompts)
    while docs:
        try:
            vectors = encoder.encode([d.text for d in docs], batch_size=batch_size, prompt_name=prompt)
        except InputError as exc:
            if not exc.indices:
                raise
            bad = set(exc.indices)
            reasons = dict(zip(exc.indices, exc.reasons or [str(exc)] * len(exc.indices), strict=True))
            report.failures.extend(
                Failure(docs[i].id, f"refused by the encoder: {reasons[i]}", "invalid") for i in sorted(bad)
            )
            docs = [d for i, d in enumerate(docs) if i not in bad]
            continue
        except SbertPluginsError:
            raise  # a configuration, model or plugin error is not about the documents: every one would fail
        except Exception:
            return _embed_one_by_one(encoder, docs, batch_size, prompt, report)
        return docs, np.asarray(vectors, dtype=np.float32)
    return [], np.zeros((0, encoder.dimension), np.float32)


def _embed_one_by_one(
    encoder: Encoder, docs: list[Document], batch_size: int | None, prompt: str | None, report: IngestReport
) -> tuple[list[Document], np.ndarray]:
    kept, rows = [], []
    for doc in docs:
        try:
            rows.append(np.asarray(encoder.encode([doc.text], batch_size=batch_size, prompt_name=prompt))[0])
            kept.append(doc)
        except SbertPluginsError as exc:
            if not isinstance(exc, InputError):
                raise
            report.failures.append(Failure(doc.id, f"refused by the encoder: {exc}", "invalid"))
        except Exception as exc:  # this document alone: report it, keep the others
            reason = f"the encoder failed on it: {type(exc).__name__}: {str(exc)[:300]}"
            report.failures.append(Failure(doc.id, reason, "invalid"))
    vectors = np.stack(rows).astype(np.float32) if rows else np.zeros((0, encoder.dimension), np.float32)
    return kept, vectors


def drain_unsent(source: Iterable[Any], report: IngestReport, reason: str) -> None:
    """Account for the documents a stopped run never read: each becomes a ``not_sent`` failure."""
    for raw in source:
        report.received += 1
        report.failures.append(Failure(raw_id(raw), reason, "not_sent"))
