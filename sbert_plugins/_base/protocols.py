"""The shapes that cross layers and hosts: the encoder and vector-store protocols and their records.

Both stores (in memory, Elasticsearch) and any third-party store satisfy
:class:`VectorStore`; every encoder (the real one, ``sbert_plugins.testing.FakeEncoder``)
satisfies :class:`Encoder`. No torch here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FailureKind = Literal["invalid", "rejected", "too_large", "unacknowledged", "not_sent", "duplicate", "exists"]
DUPLICATE_POLICIES = ("overwrite", "skip", "fail")


@runtime_checkable
class Encoder(Protocol):
    """What hosts and stores need from an encoder."""

    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def normalize(self) -> bool: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def max_seq_length(self) -> int: ...

    @property
    def prompts(self) -> dict[str, str]: ...

    def encode(
        self,
        texts: Any,
        batch_size: int | None = None,
        *,
        normalize: bool = False,
        convert_to: str = "numpy",
        show_progress_bar: bool | None = None,
        long_texts: str | None = None,
        allow_empty: bool = False,
        unicode_errors: str = "strict",
        prompt_name: str | None = None,
        prompt: str | None = None,
    ) -> Any: ...

    def contract(self) -> dict[str, Any]: ...


@dataclass
class SearchResult:
    """A hit from any vector store: document id, score, and the stored source (without the vector)."""

    id: str
    score: float
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    """One document that did not land, and why."""

    id: str | None
    reason: str
    kind: FailureKind = "rejected"


@dataclass
class IngestReport:
    """What happened to every document handed to an ingest: nothing is silently lost.

    ``received == indexed + len(failures) + len(skipped) + len(duplicates)`` always holds:
    ``indexed`` counts distinct ids the store acknowledged; ``skipped`` are ids that already
    existed (``on_duplicate='skip'``); ``duplicates`` are repeated occurrences of an id within
    this ingest that added no document (they overwrote or were skipped); every other document
    is in ``failures`` with a reason — invalid, rejected by the server, unacknowledged when the
    server went away, or never sent.
    """

    received: int = 0
    indexed: int = 0
    indexed_ids: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    retries: int = 0
    waited_seconds: float = 0.0
    error: str | None = None  # set when the run stopped early (server unreachable, not permitted)

    @property
    def failed_ids(self) -> list[str | None]:
        return [f.id for f in self.failures]

    @property
    def not_sent(self) -> list[str | None]:
        return [f.id for f in self.failures if f.kind == "not_sent"]

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None

    def merge(self, other: IngestReport) -> IngestReport:
        """Add another report's counts and lists (e.g. one per Spark partition)."""
        self.received += other.received
        self.indexed += other.indexed
        self.indexed_ids.extend(other.indexed_ids)
        self.failures.extend(other.failures)
        self.skipped.extend(other.skipped)
        self.duplicates.extend(other.duplicates)
        self.retries += other.retries
        self.waited_seconds += other.waited_seconds
        self.error = self.error or other.error
        return self

    def __str__(self) -> str:
        head = f"{self.indexed} indexed, {len(self.failures)} failed"
        extra = [f"{len(x)} {label}" for x, label in ((self.skipped, "skipped"), (self.duplicates, "duplicates")) if x]
        if self.retries:
            extra.append(f"{self.retries} retries, {self.waited_seconds:.1f} s waited")
        shown = "; ".join(f"{f.id}: {f.reason}" for f in self.failures[:5])
        more = " ..." if len(self.failures) > 5 else ""
        return head + (", " + ", ".join(extra) if extra else "") + (f" ({shown}{more})" if shown else "")


@runtime_checkable
class VectorStore(Protocol):
    """Documents embedded with one encoder: ingest, search and manage them by id.

    ``filter`` everywhere is the safe form (see :class:`sbert_plugins.Filter`):
    ``{field: value | [values] | {"gte": .., "lte": ..}}``; raw query DSL, where a
    store has one, goes through ``raw_filter=`` and must never come from end users.
    """

    encoder: Encoder

    def ingest(self, documents: Iterable[Any], *, on_duplicate: str = "overwrite") -> IngestReport: ...

    def search(self, query: str, k: int = 10, *, filter: Mapping[str, Any] | None = None) -> list[SearchResult]: ...

    def get(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def delete(self, ids: Sequence[str]) -> int: ...

    def delete_by_filter(self, filter: Mapping[str, Any]) -> int: ...

    def count(self, filter: Mapping[str, Any] | None = None) -> int: ...

    def update_metadata(self, ids: Sequence[str], fields: Mapping[str, Any]) -> int: ...
