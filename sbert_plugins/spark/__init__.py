"""Spark host: embed and index corpora that outgrow one machine.

* :func:`embed` — a column function (``array<float>``), on Spark's ``predict_batch_udf``;
* :class:`SBERTEmbedder` — a Spark ML ``Transformer`` (``Pipeline``, ``.write().save()`` / ``.load()``);
* :func:`write_elasticsearch` — embed and index a DataFrame, partition by partition, with a report.

Needs ``pip install 'sbert-plugins[spark]'`` (pyspark, pyarrow) and Java 17+. Names load on first
use; only the public ``sbert_plugins`` API is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["SBERTEmbedder", "SparkIngestReport", "embed", "resolve_spark_model", "write_elasticsearch"]
_HOMES = {
    "._embed": ("embed", "resolve_spark_model"),
    "._transformer": ("SBERTEmbedder",),
    "._write": ("SparkIngestReport", "write_elasticsearch"),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from sbert_plugins import require_extra

        require_extra("pyspark", "spark")
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sbert_plugins.spark' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from ._embed import embed, resolve_spark_model
    from ._transformer import SBERTEmbedder
    from ._write import SparkIngestReport, write_elasticsearch
