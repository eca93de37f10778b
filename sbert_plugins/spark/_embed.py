"""``embed(col)``: a text column to ``array<float>`` with Spark's batch-inference helper.

``pyspark.ml.functions.predict_batch_udf`` feeds Arrow batches to a predict function that it
builds once per Python worker (its cache is keyed per UDF). The function takes its encoder from
``sbert_plugins.shared_encoder``, so the weights load once per worker process for every UDF,
task and transformer that asks for the same model and options. Bad rows (null, not a string,
blank, invalid Unicode) raise an error naming the row, or with ``on_invalid="null"`` become null:
the predict function marks them with a NaN vector (real embeddings are always finite), and one
column expression turns the marked rows into nulls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sbert_plugins import ConfigError, EncodeOptions, InputError, shared_encoder, text_problem

ON_INVALID = ("raise", "null")
SPARKFILES = "sparkfiles:"


def resolve_spark_model(model: str) -> str | Path:
    """``sparkfiles:NAME`` → the folder shipped with ``sc.addFile(folder, recursive=True)``, on the
    driver and on every executor; any other value is returned as it is (a name or a path)."""
    if not model.startswith(SPARKFILES):
        return model
    from pyspark import SparkFiles

    folder = Path(SparkFiles.get(model[len(SPARKFILES) :]))
    if not folder.is_dir():
        raise ConfigError(
            f"model={model!r}: no folder {folder.name!r} among the files shipped with this Spark job; add it "
            "with spark.sparkContext.addFile(folder, recursive=True) before using it"
        )
    return folder


def encoder_for(options: EncodeOptions) -> Any:
    """This process's shared encoder for ``options`` (loaded at most once per Python worker)."""
    return shared_encoder(resolve_spark_model(options.model), **options.encoder_kwargs())


def _where(position: int, ids: Any) -> str:
    if ids is not None:
        return f"id={ids[position]!r}"
    from pyspark import TaskContext

    context = TaskContext.get()
    partition = f" of partition {context.partitionId()}" if context else ""
    return f"batch row {position}{partition} (pass id_col= to name rows by id)"


def _problem(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # Arrow gives null as None or NaN
        return "is null (missing); drop or fill such rows"
    return text_problem(value)


def embed_batch(options: EncodeOptions, on_invalid: str, texts: np.ndarray, ids: Any = None) -> np.ndarray:
    """``(rows, dims)`` float32 for one Arrow batch; invalid rows raise or get a NaN vector."""
    encoder = encoder_for(options)
    out = np.full((len(texts), encoder.dimension), np.nan, dtype=np.float32)
    good, kept = [], []
    for position, text in enumerate(texts):
        problem = _problem(text)
        if problem is None:
            good.append(position)
            kept.append(text)
        elif on_invalid == "raise":
            raise InputError(
                f"text of row {_where(position, ids)} {problem}; or pass on_invalid='null' to emit null for such rows",
                indices=[position],
                reasons=[problem],
            )
    if kept:
        out[good] = encoder.encode(kept, batch_size=options.batch_size)
    return out


def make_predict_fn(options: EncodeOptions, on_invalid: str, with_ids: bool) -> Callable[[], Callable[..., Any]]:
    def make() -> Callable[..., Any]:
        encoder_for(options)  # load (or find) the encoder when the worker builds the function
        if with_ids:
            return lambda ids, texts: embed_batch(options, on_invalid, texts, ids)
        return lambda texts: embed_batch(options, on_invalid, texts)

    return make


def check_on_invalid(on_invalid: str) -> str:
    if on_invalid not in ON_INVALID:
        raise ConfigError(f"on_invalid={on_invalid!r}; choose one of {ON_INVALID}")
    return on_invalid


def embed(
    col: Any,
    *,
    id_col: Any = None,
    on_invalid: str = "raise",
    options: EncodeOptions | Mapping[str, Any] | None = None,
    **encode_options: Any,
) -> Any:
    """A Spark ``Column`` of ``array<float>`` embeddings of the string column ``col``.

    Encode options are the shared ones (``model``, ``pooling``, ``normalize``, ``batch_size``,
    ``dtype``, ``device``, ``long_texts``, ``chunker``, ``max_seq_length``), as keywords or an
    ``EncodeOptions``. ``model="sparkfiles:NAME"`` names a folder shipped with the job.
    ``id_col`` names the rows in error messages. ``on_invalid``: ``"raise"`` (an error naming the
    row) or ``"null"`` (emit null for that row and keep going).
    """
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, FloatType

    if isinstance(options, Mapping):
        options = EncodeOptions.from_mapping(options, where="embed")
    options = options or EncodeOptions.from_mapping(encode_options, where="embed")
    check_on_invalid(on_invalid)
    batch = options.batch_size or 64
    udf = predict_batch_udf(
        make_predict_fn(options, on_invalid, id_col is not None),
        return_type=ArrayType(FloatType()),
        batch_size=max(batch, 1024),
    )
    column = udf(_column(id_col).cast("string"), _column(col)) if id_col is not None else udf(_column(col))
    if on_invalid == "null":
        column = F.when(F.isnan(column.getItem(0)), F.lit(None)).otherwise(column)
    return column


def _column(col: Any) -> Any:
    from pyspark.sql import functions as F

    return F.col(col) if isinstance(col, str) else col
