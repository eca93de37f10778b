"""``sbert spark-embed INPUT OUTPUT``: embed a text column of a parquet or JSON-lines dataset with Spark
(a local session by default, or ``--master``), writing parquet with an ``embedding`` column."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .._base.errors import ConfigError
from .options import add_encode_options, encode_options


def register(sub: Any) -> None:
    p = sub.add_parser("spark-embed", help="embed a parquet / jsonl dataset with Spark into parquet")
    p.add_argument("input", help="a parquet file or folder, or .jsonl / .json")
    p.add_argument("output", help="parquet folder to write (must not exist)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--output-col", default="embedding")
    p.add_argument("--on-invalid", choices=["raise", "null"], default="raise")
    p.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    add_encode_options(p)
    p.set_defaults(func=cmd_spark_embed)


def cmd_spark_embed(args: argparse.Namespace) -> int:
    if not os.path.exists(args.input):
        raise ConfigError(f"input {args.input!r} does not exist")
    if os.path.exists(args.output):
        raise ConfigError(f"output {args.output!r} exists; choose a new folder")
    from pyspark.sql import SparkSession

    from ..spark import embed

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this interpreter
    spark = SparkSession.builder.master(args.master).appName("sbert spark-embed").getOrCreate()
    try:
        reader = spark.read.json if args.input.endswith((".jsonl", ".json")) else spark.read.parquet
        df = reader(args.input)
        if args.text_col not in df.columns:
            raise ConfigError(f"--text-col {args.text_col!r} is not a column of {args.input!r}: {df.columns}")
        column = embed(args.text_col, on_invalid=args.on_invalid, options=encode_options(args))
        df.withColumn(args.output_col, column).write.parquet(args.output)
        print(f"wrote {spark.read.parquet(args.output).count()} rows to {args.output}", file=sys.stderr)
    finally:
        spark.stop()
    return 0
