"""The Spark host on a real local Spark session (local[2]): the column function, the Spark ML
transformer saved and loaded in a fresh session, SparkFiles models, and write_elasticsearch into the
suite's real Elasticsearch. (No ``from __future__ import annotations``: pandas_udf reads real type hints.)"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("pyspark", reason="spark extra not installed")
pytestmark = pytest.mark.spark

TEXTS = [
    "the man plays guitar",
    "a dog runs in the park",
    "red car",
    "the cat is very happy",
    "a big blue book",
    "the woman reads a book",
    "the child eats food",
    "small green car",
    "music is fast",
    "the park is big",
]


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture()
def frame(spark):
    rows = [(i, f"{TEXTS[i % len(TEXTS)]} {i}") for i in range(200)]
    return spark.createDataFrame(rows, "id long, text string")


def test_embed_matches_the_in_process_encoder_and_keeps_rows_aligned(frame, tiny_model_dir, tiny_encoder):
    from sbert_plugins.spark import embed

    shuffled = frame.repartition(7).withColumn("e", embed("text", model=str(tiny_model_dir), device="cpu"))
    joined = shuffled.join(frame.withColumnRenamed("text", "original"), "id").orderBy("id").collect()
    assert [r.id for r in joined] == list(range(200)) and all(r.text == r.original for r in joined)
    expected = tiny_encoder.encode([r.text for r in joined])
    assert cosine(np.array([r.e for r in joined]), expected).min() >= 0.9999


@pytest.mark.quality
def test_minilm_parity(spark, minilm):
    from sbert_plugins.spark import embed

    df = spark.createDataFrame([(t,) for t in TEXTS], "text string")
    rows = df.select(
        "text", embed("text", model="all-MiniLM-L6-v2", dtype="float32", device="cpu").alias("e")
    ).collect()
    assert cosine(np.array([r.e for r in rows]), minilm.encode([r.text for r in rows])).min() >= 0.9999


def test_the_model_loads_once_per_python_worker(frame, tiny_model_dir):
    """embed()'s predict function, wrapped so that each batch also reports its worker's load count (Spark
    runs every iterator UDF in its own Python runner, so a separate probe UDF would see another process)."""
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import StringType

    from sbert_plugins import EncodeOptions
    from sbert_plugins.spark._embed import make_predict_fn

    options = EncodeOptions(model=str(tiny_model_dir), device="cpu", max_seq_length=31)  # a key no other test uses

    def make_probe():
        predict = make_predict_fn(options, "raise", with_ids=False)()  # what embed() builds per worker

        def probe(texts):
            from sbert_plugins import shared_encoders

            vectors = predict(texts)
            loads = shared_encoders.load_count(options.model, **options.encoder_kwargs())
            return np.array([f"{os.getpid()}:{loads}:{v.shape[0]}" for v in vectors])

        return probe

    df = frame.repartition(8)
    seen = set()
    for _ in range(2):  # two jobs, each with a new UDF (a new predict_batch_udf cache key): still one load
        probe = predict_batch_udf(make_probe, return_type=StringType(), batch_size=64)
        seen |= {r.p for r in df.select(probe("text").alias("p")).collect()}
    per_worker = {p.split(":")[0]: int(p.split(":")[1]) for p in seen}
    assert {p.split(":")[2] for p in seen} == {"32"}
    assert set(per_worker.values()) == {1}, per_worker  # each worker loaded the model exactly once
    assert len(per_worker) <= 4  # 16 tasks over 2 jobs ran in a handful of reused workers


def test_bad_rows_raise_naming_the_row_or_become_null(spark, tiny_model_dir):
    from sbert_plugins.spark import embed

    df = spark.createDataFrame([(1, "a dog"), (2, None), (3, "   "), (4, "red car")], "id long, text string")
    # One bad row per job: with two bad rows, whichever partition's task fails first names its row.
    for bad_id, reason in ((2, r"is null \(missing\)"), (3, r"is empty or has only whitespace")):
        one_bad = df.where(f"id = {bad_id} or text is not null and trim(text) != ''")
        with pytest.raises(Exception, match=rf"text of row id='{bad_id}' {reason}"):
            one_bad.select(embed("text", id_col="id", model=str(tiny_model_dir), device="cpu")).collect()
    rows = df.select("id", embed("text", on_invalid="null", model=str(tiny_model_dir), device="cpu").alias("e"))
    got = {r.id: r.e for r in rows.collect()}
    assert got[2] is None and got[3] is None and len(got[1]) == 32 and len(got[4]) == 32


def test_bad_options_are_refused_on_the_driver_with_the_shared_message(spark, tiny_model_dir):
    from sbert_plugins import ConfigError
    from sbert_plugins.spark import SBERTEmbedder, embed

    with pytest.raises(ConfigError, match="embed: dtype='float8'"):
        embed("text", model=str(tiny_model_dir), dtype="float8")
    df = spark.createDataFrame([("a dog",)], "text string")
    with pytest.raises(ConfigError, match="SBERTEmbedder: batch_size=0"):
        SBERTEmbedder(model=str(tiny_model_dir), batchSize=0).transform(df)
    with pytest.raises(ConfigError, match="inputCol 'missing' is not a column"):
        SBERTEmbedder(model=str(tiny_model_dir), inputCol="missing").transform(df)


def test_pipeline_saved_and_loaded_in_a_fresh_session(spark, tiny_model_dir, tmp_path):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.functions import array_to_vector, vector_to_array

    from sbert_plugins.spark import SBERTEmbedder

    labels = [(t, float("car" in t or "book" in t)) for t in TEXTS] * 3
    df = spark.createDataFrame(labels, "text string, label double")
    embedder = SBERTEmbedder(inputCol="text", outputCol="embedding", model=str(tiny_model_dir), device="cpu")
    features = embedder.transform(df).withColumn("features", array_to_vector("embedding"))
    back = features.select(vector_to_array("features").alias("a"), "embedding").collect()
    assert all(np.allclose(r.a, r.embedding) for r in back)  # array <-> vector round trip
    vectors = SBERTEmbedder(model=str(tiny_model_dir), device="cpu", outputType="vector", outputCol="features")
    model = Pipeline(stages=[vectors, LogisticRegression(maxIter=20)]).fit(df)
    model.write().overwrite().save(str(tmp_path / "pipeline"))
    expected = model.transform(df).select("features").collect()
    code = textwrap.dedent(f"""
        import json, os, sys
        from pyspark.ml import PipelineModel
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
        model = PipelineModel.load({str(tmp_path / "pipeline")!r})
        df = spark.createDataFrame([(t,) for t in {TEXTS!r} * 3], "text string")
        rows = model.transform(df).select("features", "prediction").collect()
        print(json.dumps([list(map(float, r.features)) for r in rows]))
        spark.stop()
    """)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    assert np.allclose(loaded, np.array([r.features.toArray() for r in expected]), atol=1e-6)


def test_a_model_folder_shipped_with_sparkfiles(spark, tiny_model_dir, tiny_encoder, tmp_path):
    import shutil

    from sbert_plugins.spark import embed

    shipped = tmp_path / "shipped-model"
    shutil.copytree(tiny_model_dir, shipped)
    spark.sparkContext.addFile(str(shipped), recursive=True)
    df = spark.createDataFrame([(t,) for t in TEXTS], "text string")
    rows = df.select("text", embed("text", model="sparkfiles:shipped-model", device="cpu").alias("e")).collect()
    assert cosine(np.array([r.e for r in rows]), tiny_encoder.encode([r.text for r in rows])).min() >= 0.9999
    with pytest.raises(Exception, match="no folder 'not-shipped' among the files shipped"):
        df.select(embed("text", model="sparkfiles:not-shipped", device="cpu")).collect()


def test_a_hub_model_downloaded_once_on_the_driver_and_shipped(spark, tiny_model_dir, monkeypatch, tmp_path):
    """Any-model issue: workers get a Hub model without each reaching the Hub (docs/spark.md)."""
    pytest.importorskip("huggingface_hub")
    from fake_hub import FakeHub, fake_hub_env

    from sbert_plugins import SentenceEncoder
    from sbert_plugins.spark import embed

    with FakeHub() as hub:
        fake_hub_env(monkeypatch, hub, tmp_path)
        sha = hub.add_repo("acme/tiny", tiny_model_dir)  # a folder's files
        driver = SentenceEncoder("acme/tiny", revision=sha, device="cpu", dtype="float32")  # the one download
        shipped = driver.save(tmp_path / "acme-tiny")  # a plain folder (the Hub cache holds links)
        spark.sparkContext.addFile(str(shipped), recursive=True)
        requests = len(hub.requests)
        df = spark.createDataFrame([(t,) for t in TEXTS], "text string")
        rows = df.select("text", embed("text", model="sparkfiles:acme-tiny", device="cpu").alias("e")).collect()
        assert len(hub.requests) == requests  # the workers never asked the Hub
    expected = driver.encode([r.text for r in rows])
    assert cosine(np.array([r.e for r in rows]), expected).min() >= 0.9999


@pytest.mark.elasticsearch
def test_write_elasticsearch_counts_reruns_and_failures(spark, tiny_model_dir, index_name):
    from support import es_url

    from sbert_plugins.elasticsearch import connect
    from sbert_plugins.spark import write_elasticsearch

    index = index_name
    client = connect(es_url())
    rows = [(f"doc-{i}", f"{TEXTS[i % len(TEXTS)]} {i}", i % 3) for i in range(300)]
    df = spark.createDataFrame(rows, "id string, text string, shard int").repartition(4)
    options = {"model": str(tiny_model_dir), "device": "cpu"}
    try:
        first = write_elasticsearch(df, index, id_col="id", options=options, connection={"url": es_url()})
        assert (first.rows, first.indexed, first.failed) == (300, 300, 0) and first.ok
        assert client.count(index=index)["count"] == 300
        client.delete(index=index, id="doc-7", refresh=True)  # so the re-run has something to restore
        second = write_elasticsearch(df, index, id_col="id", options=options, connection={"url": es_url()})
        assert second.indexed == 300 and client.count(index=index)["count"] == 300  # re-run: no duplicates
        bad = spark.createDataFrame(
            [("ok-1", "a dog", 0), ("bad-1", None, 0), ("bad-2", "\u200b", 1)], "id string, text string, shard int"
        )
        report = write_elasticsearch(bad, index, id_col="id", options=options, connection={"url": es_url()})
        assert (report.indexed, report.failed) == (1, 2) and {f.id for f in report.failures} == {"bad-1", "bad-2"}
        client.indices.close(index=index)  # the server refuses every write of this run
        closed = write_elasticsearch(
            df, index, id_col="id", options=options, connection={"url": es_url()}, create_index=False
        )
        assert closed.rows == 300 and closed.failed == 300 and closed.indexed == 0
        assert "closed" in closed.failures[0].reason
        client.indices.open(index=index)
        rerun = write_elasticsearch(df, index, id_col="id", options=options, connection={"url": es_url()})
        assert rerun.ok and client.count(index=index)["count"] == 301
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)


@pytest.mark.elasticsearch
def test_write_elasticsearch_without_ids_uses_content_ids(spark, tiny_model_dir, index_name):
    from support import es_url

    from sbert_plugins.elasticsearch import connect
    from sbert_plugins.spark import write_elasticsearch

    index = index_name
    df = spark.createDataFrame([(t,) for t in TEXTS], "text string")
    options = {"model": str(tiny_model_dir), "device": "cpu"}
    try:
        for _ in range(2):
            report = write_elasticsearch(df, index, options=options, connection={"url": es_url()})
            assert report.indexed == len(TEXTS)
        assert connect(es_url()).count(index=index)["count"] == len(TEXTS)
        assert report.report.where("status = 'indexed'").count() == len(TEXTS)
    finally:
        connect(es_url()).indices.delete(index=index, ignore_unavailable=True)


@pytest.mark.quality
def test_a_pipeline_saved_before_the_layout_change_still_loads(spark, minilm):
    """tests/data/spark-pipeline-0.2.0 was saved by the code before the package moved into layer folders
    (commit b8c8994): its stage's class path and params must keep meaning the same."""
    from pathlib import Path

    from pyspark.ml import PipelineModel

    from sbert_plugins import SentenceEncoder

    saved = Path(__file__).resolve().parents[1] / "data" / "spark-pipeline-0.2.0"
    model = PipelineModel.load(str(saved))
    stage = model.stages[0]
    assert type(stage).__module__ == "sbert_plugins.spark._transformer"
    assert stage.options().max_seq_length == 64 and stage.options().long_texts == "chunk"
    texts = ["A man is playing a guitar.", "A woman slices an onion."]
    rows = model.transform(spark.createDataFrame([(t,) for t in texts], "text string")).collect()
    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cpu", dtype="float32", max_seq_length=64, normalize=True)
    np.testing.assert_allclose(np.array([r.embedding for r in rows]), encoder.encode(texts), atol=1e-5)
