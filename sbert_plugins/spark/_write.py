"""``write_elasticsearch(df, index)``: embed and index a DataFrame, partition by partition, with a report.

The index and its embedding contract are created (or checked) once, on the driver. Each partition
then embeds its rows with the worker's shared encoder and sends them through the Elasticsearch
store's bounded-memory ingest (``streaming_bulk``). Ids are deterministic (the ``id_col``, else a
content hash), so Spark task retries and re-runs overwrite instead of duplicating. Every row comes
back as one row of the report DataFrame (``id``, ``status``, ``kind``, ``reason``), and a summary is
computed on the driver. Nothing is lost: a partition whose server goes away, or whose permission is
refused, reports its rows as failed instead of failing the job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sbert_plugins import (
    EncodeOptions,
    Failure,
    IngestReport,
    SbertPluginsError,
    StoreAuthError,
    content_id,
    drain_unsent,
)

from ._embed import encoder_for

REPORT_SCHEMA = "id string, status string, kind string, reason string"
_FAILURES_ON_DRIVER = 1000


@dataclass
class SparkIngestReport:
    """Counts over every row, the first failures, and the full per-row ``report`` DataFrame."""

    rows: int = 0
    indexed: int = 0
    failed: int = 0
    skipped: int = 0
    duplicates: int = 0
    failures: list[Failure] = field(default_factory=list)  # the first 1,000; all are in ``report``
    report: Any = None  # DataFrame[id, status, kind, reason], one row per input row

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def __str__(self) -> str:
        shown = "; ".join(f"{f.id}: {f.reason}" for f in self.failures[:5])
        return (
            f"{self.rows} rows: {self.indexed} indexed, {self.failed} failed, {self.skipped} skipped, "
            f"{self.duplicates} duplicates" + (f" ({shown})" if shown else "")
        )


@dataclass(frozen=True)
class _Plan:
    """Everything a partition needs, picklable: where to write and how to embed."""

    index: str
    text_col: str
    id_col: str | None
    metadata_cols: tuple[str, ...]
    options: EncodeOptions
    connection: dict[str, Any]
    on_duplicate: str
    chunk_size: int


def _rows(report: IngestReport) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [(i, "indexed", None, None) for i in report.indexed_ids]
    rows += [(i, "skipped", "exists", "already in the index (on_duplicate='skip')") for i in report.skipped]
    rows += [(i, "duplicate", "duplicate", "repeated id in this partition") for i in report.duplicates]
    rows += [(f.id, "failed", f.kind, f.reason) for f in report.failures]
    return rows


def _documents(plan: _Plan, batches: Iterator[Any]) -> Iterator[dict[str, Any]]:
    for frame in batches:
        for record in frame.to_dict("records"):
            text = record.get(plan.text_col)
            doc_id = record.get(plan.id_col) if plan.id_col else (content_id(text) if isinstance(text, str) else None)
            meta = {k: record[k] for k in plan.metadata_cols if record.get(k) is not None}
            yield {**meta, "id": None if doc_id is None else str(doc_id), plan.text_col: text}


def _ingest_partition(plan: _Plan, batches: Iterator[Any]) -> IngestReport:
    from sbert_plugins.elasticsearch import ElasticsearchStore

    docs = _documents(plan, batches)
    try:
        store = ElasticsearchStore(plan.index, encoder_for(plan.options), text_field=plan.text_col, **plan.connection)
        return store.ingest(docs, on_duplicate=plan.on_duplicate, chunk_size=plan.chunk_size, refresh=False)
    except StoreAuthError as exc:
        report: IngestReport = getattr(exc, "report", None) or IngestReport(error=str(exc))
    except SbertPluginsError as exc:  # the server could not even be reached: every row fails, with why
        report = IngestReport(error=str(exc))
    drain_unsent(docs, report, f"not sent: {report.error}")
    return report


def _partition_function(plan: _Plan) -> Any:
    def index_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        report = _ingest_partition(plan, batches)
        yield pd.DataFrame(_rows(report), columns=["id", "status", "kind", "reason"])

    return index_partition


def _prepare_index(plan: _Plan, create_index: bool, index_type: str) -> Any:
    """Create or check the index and its contract once, on the driver, before any partition writes."""
    from sbert_plugins.elasticsearch import ElasticsearchStore

    store = ElasticsearchStore(plan.index, encoder_for(plan.options), text_field=plan.text_col, **plan.connection)
    if create_index:
        store.create_index(index_type=index_type, exist_ok=True)
    else:
        store.check_contract()
    return store


def write_elasticsearch(
    df: Any,
    index: str,
    *,
    text_col: str = "text",
    id_col: str | None = None,
    metadata_cols: Sequence[str] | None = None,
    options: EncodeOptions | Mapping[str, Any] | None = None,
    connection: Mapping[str, Any] | None = None,
    on_duplicate: str = "overwrite",
    chunk_size: int = 500,
    create_index: bool = True,
    index_type: str = "auto",
) -> SparkIngestReport:
    """Embed ``text_col`` of ``df`` and index every row into ``index``; returns the report.

    ``connection`` holds the ``ElasticsearchStore`` connection keywords (``url``, ``api_key``,
    ``basic_auth``, ``ca_certs``, ``verify_certs``, client options), which reach the executors.
    ``options`` are the shared encode options. ``metadata_cols`` (default: every other column) are
    stored beside the text.
    """
    if not isinstance(options, EncodeOptions):
        options = EncodeOptions.from_mapping(options or {}, where="write_elasticsearch")
    extra = [c for c in df.columns if c not in (text_col, id_col)]
    plan = _Plan(
        index,
        text_col,
        id_col,
        tuple(extra if metadata_cols is None else metadata_cols),
        options,
        dict(connection or {}),
        on_duplicate,
        chunk_size,
    )
    store = _prepare_index(plan, create_index, index_type)
    columns = list(dict.fromkeys([text_col, *([id_col] if id_col else []), *plan.metadata_cols]))
    # eager local checkpoint: the job runs exactly once, here. (Not .cache(): Spark's cache manager would
    # match a later call with the same arguments to this plan and return this run's report unwritten.)
    report = df.select(*columns).mapInPandas(_partition_function(plan), REPORT_SCHEMA).localCheckpoint(eager=True)
    summary = _summarize(report)
    if summary.indexed:
        store.refresh()  # the run's documents are searchable at once
    return summary


def _summarize(report: Any) -> SparkIngestReport:
    counts = {row["status"]: row["count"] for row in report.groupBy("status").count().collect()}
    failures = [
        Failure(r["id"], r["reason"], r["kind"])
        for r in report.where("status = 'failed'").limit(_FAILURES_ON_DRIVER).collect()
    ]
    return SparkIngestReport(
        rows=sum(counts.values()),
        indexed=counts.get("indexed", 0),
        failed=counts.get("failed", 0),
        skipped=counts.get("skipped", 0),
        duplicates=counts.get("duplicate", 0),
        failures=failures,
        report=report,
    )
