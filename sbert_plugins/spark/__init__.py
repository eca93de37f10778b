"""Spark host: embed and index corpora that outgrow one machine.

* :func:`embed`: a column function (``array<float>``), on Spark's ``predict_batch_udf``;
* :class:`SBERTEmbedder`: a Spark ML ``Transformer`` (``Pipeline``, ``.write().save()`` / ``.load()``);
* :func:`write_elasticsearch`: embed and index a DataFrame, partition by partition, with a report.

Needs ``pip install 'sbert-plugins[spark]'`` (pyspark, pyarrow) and Java 17+. Uses only the public
``sbert_plugins`` API.
"""

from sbert_plugins import require_extra

require_extra("pyspark", "spark")

from ._embed import embed, resolve_spark_model  # noqa: E402
from ._transformer import SBERTEmbedder  # noqa: E402
from ._write import SparkIngestReport, write_elasticsearch  # noqa: E402

__all__ = ["SBERTEmbedder", "SparkIngestReport", "embed", "resolve_spark_model", "write_elasticsearch"]
