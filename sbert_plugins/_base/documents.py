"""Documents handed to a vector store's ingest: parsed and checked one by one, so one bad
document is reported alone instead of failing its batch."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .validation import replace_surrogates, show, text_problem

MAX_ID_BYTES = 512  # Elasticsearch's limit for _id; the in-memory store keeps the same rule


@dataclass(frozen=True)
class Document:
    """One document: a unique id, the text to embed, and metadata stored beside it."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def raw_id(raw: Any) -> str | None:
    """The id of a raw document as well as it can be read (for failure reports)."""
    if isinstance(raw, Document):
        return raw.id
    if isinstance(raw, Mapping):
        value = raw.get("id", raw.get("_id"))
    elif isinstance(raw, (tuple, list)) and raw:
        value = raw[0]
    else:
        value = None
    return None if value is None else str(value)


def id_problem(doc_id: str) -> str | None:
    if not doc_id:
        return "has an empty id; give every document a unique id (re-runs are idempotent by id)"
    size = len(doc_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return f"has an id of {size} bytes ({show(doc_id)}); ids are limited to {MAX_ID_BYTES} bytes: hash it"
    return None


def _fields(raw: Any, text_field: str) -> tuple[Any, Any, dict[str, Any]]:
    if isinstance(raw, Document):
        return raw.id, raw.text, dict(raw.metadata)
    if isinstance(raw, Mapping):
        meta = {k: v for k, v in raw.items() if k not in ("id", "_id", text_field)}
        return raw.get("id", raw.get("_id")), raw.get(text_field), meta
    if isinstance(raw, (tuple, list)) and len(raw) in (2, 3):
        meta = dict(raw[2]) if len(raw) == 3 and raw[2] is not None else {}
        return raw[0], raw[1], meta
    raise InputError(f"a document must be a dict, a Document or an (id, text[, metadata]) tuple, got {show(raw)}")


def parse_document(
    raw: Any, text_field: str = "text", *, allow_empty: bool = False, unicode_errors: str = "strict"
) -> Document:
    """A checked :class:`Document` from a dict (``id``, ``text_field``, metadata...), a tuple or a Document.

    Raises :class:`InputError` with the reason (no id, id too long, text missing, empty,
    not a string, invalid Unicode).
    """
    doc_id, text, meta = _fields(raw, text_field)
    if doc_id is None:
        raise InputError(f"document {show(raw)} has no id (needed for idempotent re-runs)")
    doc_id = str(doc_id)
    problem = id_problem(doc_id)
    if problem is None:
        problem = text_problem(text, allow_empty=allow_empty, unicode_errors=unicode_errors)
        problem = None if problem is None else f"has no usable {text_field!r}: it {problem}"
    if problem is not None:
        raise InputError(f"document {show(doc_id)} {problem}")
    if unicode_errors == "replace":
        text = replace_surrogates(text)
    return Document(doc_id, text, meta)


def content_id(text: str, namespace: str = "") -> str:
    """A deterministic id from the text (sha1 hex), for corpora without ids: re-runs never duplicate."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(namespace.encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
