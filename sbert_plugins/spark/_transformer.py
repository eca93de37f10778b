"""``SBERTEmbedder``: a Spark ML ``Transformer`` from a text column to embeddings.

Its params are the shared encode options in Spark's camelCase (``model``, ``pooling``,
``normalize``, ``batchSize``, ``dtype``, ``device``, ``longTexts``, ``chunker``, ``maxSeqLength``,
``revision``, ``truncateDim``, ``compile``) plus ``inputCol``, ``outputCol``, ``onInvalid`` and
``outputType`` (``array`` → ``array<float>``, ``vector`` → a Spark ML vector for the ``pyspark.ml``
estimators). It is saved with the pipeline by ``DefaultParamsWritable`` (params only, never the
weights: the model name or folder must resolve on the executors) and loaded by class path, so keep
using ``sbert_plugins.spark.SBERTEmbedder``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pyspark import keyword_only
from pyspark.ml import Transformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable

from sbert_plugins import OPTIONS, ConfigError, EncodeOptions, option_defaults

from ._embed import check_on_invalid, embed


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Spark param name (camelCase) -> shared option name; the params, their help and defaults come from OPTIONS
OPTION_PARAMS = {_camel(name): name for name in OPTIONS}


def _converter(option: str) -> Any:
    """Spark's converter for an option, from its declared type (``int | None`` -> toInt, ...)."""
    declared = str(next(f.type for f in fields(EncodeOptions) if f.name == option))
    if declared.startswith("int"):
        return TypeConverters.toInt
    return TypeConverters.toBoolean if declared.startswith("bool") else TypeConverters.identity


class SBERTEmbedder(Transformer, HasInputCol, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """Sentence-BERT embeddings of ``inputCol`` in ``outputCol``; usable in ``pyspark.ml.Pipeline``."""

    onInvalid = Param(
        Params._dummy(),
        "onInvalid",
        "null / non-string / blank text: 'raise' or 'null'",
        typeConverter=TypeConverters.toString,
    )
    outputType = Param(
        Params._dummy(),
        "outputType",
        "'array' (array<float>) or 'vector' (ml Vector)",
        typeConverter=TypeConverters.toString,
    )

    @keyword_only
    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        defaults = {param: option_defaults()[option] for param, option in OPTION_PARAMS.items()}
        self._setDefault(inputCol="text", outputCol="embedding", onInvalid="raise", outputType="array", **defaults)
        self.setParams(**self._input_kwargs)  # type: ignore[attr-defined]  # set by @keyword_only

    @keyword_only
    def setParams(self, **kwargs: Any) -> SBERTEmbedder:
        unknown = sorted(set(kwargs) - {p.name for p in self.params})
        if unknown:
            raise ConfigError(
                f"SBERTEmbedder: unknown param(s) {unknown}; known: {sorted(p.name for p in self.params)}"
            )
        return self._set(**self._input_kwargs)  # type: ignore[attr-defined]

    def options(self) -> EncodeOptions:
        """The encode options, checked with the shared vocabulary (same errors as every host)."""
        values = {option: self.getOrDefault(getattr(self, param)) for param, option in OPTION_PARAMS.items()}
        return EncodeOptions.from_mapping(values, where="SBERTEmbedder")

    def _check(self, schema: Any) -> None:
        from pyspark.sql.types import StringType

        column, out = self.getInputCol(), self.getOutputCol()
        if column not in schema.fieldNames():
            raise ConfigError(f"SBERTEmbedder: inputCol {column!r} is not a column; columns: {schema.fieldNames()}")
        if not isinstance(schema[column].dataType, StringType):
            raise ConfigError(
                f"SBERTEmbedder: inputCol {column!r} is {schema[column].dataType.simpleString()}, "
                "not string; cast it first"
            )
        if out in schema.fieldNames():
            raise ConfigError(f"SBERTEmbedder: outputCol {out!r} already exists; choose another name")
        if self.getOrDefault(self.outputType) not in ("array", "vector"):
            raise ConfigError(
                f"SBERTEmbedder: outputType={self.getOrDefault(self.outputType)!r}; use 'array' or 'vector'"
            )

    def _transform(self, dataset: Any) -> Any:
        self._check(dataset.schema)
        on_invalid = check_on_invalid(self.getOrDefault(self.onInvalid))
        column = embed(dataset[self.getInputCol()], on_invalid=on_invalid, options=self.options())
        if self.getOrDefault(self.outputType) == "vector":
            from pyspark.ml.functions import array_to_vector

            column = array_to_vector(column)
        return dataset.withColumn(self.getOutputCol(), column)


_MODEL_HELP = " (on Spark: must resolve on every executor; sparkfiles:NAME for shipped folders)"
for _param_name, _option in OPTION_PARAMS.items():  # one Param per shared option, its help from OPTIONS
    _help = OPTIONS[_option].help + (_MODEL_HELP if _option == "model" else "")
    setattr(SBERTEmbedder, _param_name, Param(Params._dummy(), _param_name, _help, typeConverter=_converter(_option)))
