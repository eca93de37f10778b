"""Spark end to end: embed a text column with `embed`, then find each review's nearest other review
with a plain Spark self-join on the cosine of the (unit-length) vectors.

    python examples/spark_embed.py            # a local[2] session; pass --master for a cluster
"""

from __future__ import annotations

import argparse

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sbert_plugins.spark import embed

REVIEWS = [
    ("r1", "A wonderful, moving film with great acting."),
    ("r2", "The acting was superb and the story moved me."),
    ("r3", "Dull and far too long; I nearly fell asleep."),
    ("r4", "Boring, slow and much longer than it needed to be."),
    ("r5", "The soundtrack is the best part of this movie."),
]


def nearest_neighbours(spark: SparkSession, model: str = "all-MiniLM-L6-v2") -> DataFrame:
    """``(id, neighbour, score)``: for every review, the most similar other review."""
    reviews = spark.createDataFrame(REVIEWS, "id string, text string")
    vectors = reviews.withColumn("v", embed("text", model=model, id_col="id", normalize=True)).cache()
    a, b = vectors.alias("a"), vectors.alias("b")
    dot = F.aggregate(F.zip_with("a.v", "b.v", lambda x, y: x * y), F.lit(0.0), lambda acc, x: acc + x)
    scored = a.join(b, F.col("a.id") != F.col("b.id")).select(
        F.col("a.id").alias("id"), F.col("b.id").alias("neighbour"), dot.alias("score")
    )
    best = scored.groupBy("id").agg(F.max_by("neighbour", "score").alias("neighbour"), F.max("score").alias("score"))
    return best.orderBy("id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    spark = SparkSession.builder.master(args.master).appName("sbert nearest reviews").getOrCreate()
    for row in nearest_neighbours(spark, args.model).collect():
        print(f"{row.id} -> {row.neighbour}  {row.score:.3f}")
    spark.stop()


if __name__ == "__main__":
    main()
