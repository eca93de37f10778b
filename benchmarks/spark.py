"""Spark local[2] embed vs the single-process encoder: the same 20k STSb/SentEval sentences, same machine,
same model and dtype, ratios in one run; and where Spark's time goes.

    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 python benchmarks/spark.py [--n 20000]

Rows: single process (2 torch threads); Spark cold (first job: Python workers start and load the
model); Spark warm (a second job with a new UDF: workers and model reused); a zeros UDF of the same
shape (Spark + Arrow transfer alone). Spark's jobs end in an aggregate over the vectors, so every
row is really embedded and moved, and nothing is collected.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _common import stsb_sentences

from sbert_plugins import SentenceEncoder, load_senteval


def corpus(n: int) -> list:
    texts = stsb_sentences(n)
    seen = set(texts)
    for task in ("MR", "SUBJ", "CR"):
        if len(texts) >= n:
            break
        texts += [t for t in load_senteval(task)["all"][0] if t.strip() and t not in seen and not seen.add(t)]
    return texts[:n]


def single_process(texts: list, model: str) -> dict:
    start = time.perf_counter()
    encoder = SentenceEncoder(model, device="cpu", dtype="float32")
    load = time.perf_counter() - start
    encoder.encode(texts[:256])
    start = time.perf_counter()
    encoder.encode(texts)
    return {"load_s": load, "encode_s": time.perf_counter() - start}


def timed_job(df, column) -> float:
    from pyspark.sql import functions as F

    start = time.perf_counter()
    df.select(F.sum(column.getItem(0)).alias("s")).collect()
    return time.perf_counter() - start


def zeros_column(df, dims: int):
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import ArrayType, FloatType

    def make():
        return lambda texts: np.zeros((len(texts), dims), dtype=np.float32)

    return predict_batch_udf(make, return_type=ArrayType(FloatType()), batch_size=1024)(df["text"])


def spark_runs(texts: list, model: str, partitions: int) -> dict:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from sbert_plugins.spark import embed

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    session = time.perf_counter() - start
    df = spark.createDataFrame([(t,) for t in texts], "text string").repartition(partitions).cache()
    df.count()
    out = {"session_s": session}
    out["cold_s"] = timed_job(df, embed("text", model=model, device="cpu", dtype="float32"))
    out["warm_s"] = timed_job(df, embed("text", model=model, device="cpu", dtype="float32"))
    out["zeros_s"] = timed_job(df, zeros_column(df, 384))
    threads = df.rdd.mapPartitions(lambda _: [__import__("torch").get_num_threads()]).collect()
    out["worker_torch_threads"] = sorted(set(threads))
    spark.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    from sbert_plugins._base.cpu import cpu_model

    texts = corpus(args.n)
    single = single_process(texts, args.model)
    spark = spark_runs(texts, args.model, args.partitions)
    n = len(texts)
    print(f"{n} sentences, {args.model} float32, CPU: {cpu_model()} ({os.cpu_count()} cores)")
    print(
        f"  single process (2 torch threads)  {single['encode_s']:7.1f} s  {n / single['encode_s']:6.0f} rows/s"
        f"   (model load {single['load_s']:.1f} s, not counted)"
    )
    print(
        f"  Spark local[2] warm                {spark['warm_s']:7.1f} s  {n / spark['warm_s']:6.0f} rows/s"
        f"   overhead vs single process {100 * (spark['warm_s'] / single['encode_s'] - 1):+.1f} %"
    )
    print(
        f"  Spark local[2] cold (first job)    {spark['cold_s']:7.1f} s  {n / spark['cold_s']:6.0f} rows/s"
        f"   worker start + model load ~{spark['cold_s'] - spark['warm_s']:.1f} s"
    )
    share = 100 * spark["zeros_s"] / spark["warm_s"]
    print(f"  Spark + Arrow alone (zeros UDF)    {spark['zeros_s']:7.1f} s  ({share:.1f} % of the warm job)")
    print(
        f"  session start {spark['session_s']:.1f} s; torch threads per Python worker {spark['worker_torch_threads']}"
    )


if __name__ == "__main__":
    main()
