"""Elasticsearch ingest accounts for every document (issue: reliability and security), against the real
server of the suite: one bad document is reported alone and the rest lands."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from support import assert_accounted, es_url

from sbert_plugins import EmbeddingContractError, SentenceEncoder
from sbert_plugins.elasticsearch import ElasticsearchStore, connect
from sbert_plugins.elasticsearch._bodies import META_KEY

pytestmark = pytest.mark.elasticsearch


@pytest.fixture()
def store(tiny_encoder, index_name, es_client):
    store = ElasticsearchStore(index_name, tiny_encoder, client=es_client)
    store.create_index()
    return store


def test_an_overlong_id_fails_alone(store):
    docs = [{"id": f"d{i}", "text": "a dog runs"} for i in range(499)] + [{"id": "x" * 513, "text": "long id"}]
    report = store.ingest(docs, chunk_size=500)
    assert_accounted(report, 500)
    assert report.indexed == 499 and len(report.failures) == 1
    assert report.failures[0].id == "x" * 513 and "513 bytes" in report.failures[0].reason
    assert store.count() == 499


def test_a_long_text_under_the_error_policy_fails_alone(tiny_model_dir, index_name):
    strict = SentenceEncoder(tiny_model_dir, device="cpu", long_texts="error")
    store = ElasticsearchStore(index_name, strict, client=connect(es_url()))
    store.create_index()
    try:
        docs = [{"id": f"d{i}", "text": "a dog runs"} for i in range(200)]
        docs[100] = {"id": "long", "text": "the dog runs " * 40}
        report = store.ingest(docs, chunk_size=50, encode_window=60)
        assert_accounted(report, 200)
        assert report.indexed == 199 and report.failed_ids == ["long"]
        assert "over max_seq_length=32 (long_texts='error')" in report.failures[0].reason
    finally:
        store.client.indices.delete(index=store.index)


def test_duplicate_ids_count_once_and_are_reported(store):
    docs = [{"id": f"d{i % 7}", "text": f"text {i}"} for i in range(8)]  # d0 twice
    report = store.ingest(docs)
    assert_accounted(report, 8)
    assert report.indexed == 7 == store.count() and report.duplicates == ["d0"]
    assert store.get(["d0"])["d0"]["text"] == "text 7"  # the later occurrence wins


def test_a_lone_surrogate_fails_alone(store):
    report = store.ingest([{"id": "ok", "text": "fine"}, {"id": "bad", "text": "a \ud800 b"}, ("ok2", "also fine")])
    assert_accounted(report, 3)
    assert report.indexed == 2 and report.failed_ids == ["bad"] and "lone surrogate" in report.failures[0].reason
    assert store.ingest([{"id": "bad", "text": "a \ud800 b"}], unicode_errors="replace").indexed == 1


def test_a_mapping_that_disagrees_with_its_meta_is_refused_before_writing(store, tiny_encoder):
    meta = store.stored_contract()
    copied = f"{store.index}-copy"
    client = store.client
    client.indices.create(
        index=copied,
        mappings={
            "_meta": {META_KEY: {k: v for k, v in meta.items() if not k.startswith("_")}},
            "properties": {
                "text": {"type": "text"},
                "embedding": {"type": "dense_vector", "dims": 16, "similarity": "cosine"},
            },
        },
    )
    try:
        other = ElasticsearchStore(copied, tiny_encoder, client=client)
        with pytest.raises(EmbeddingContractError, match="mapping dims 16 != contract dims 32"):
            other.ingest([{"id": "a", "text": "a dog"}])
        with pytest.raises(EmbeddingContractError, match="mapping dims 16"):
            other.knn("a dog")
        assert client.count(index=copied)["count"] == 0
    finally:
        client.indices.delete(index=copied)


def test_index_type_auto_takes_the_servers_default_and_records_it(minilm, index_name):
    from sbert_plugins.elasticsearch import server_version

    client = connect(es_url())
    store = ElasticsearchStore(index_name, minilm, client=client)
    store.create_index()
    try:
        recorded = store.stored_contract()["index_options"]
        major = int(server_version(client, es_url()).split(".")[0])
        assert recorded["type"] == ("bbq_hnsw" if major >= 9 else "int8_hnsw")  # 384 dims
        if major >= 9:
            assert recorded["rescore_vector"]["oversample"] == 3.0
        assert store.ingest([("a", "A man plays guitar."), ("b", "The stock market fell.")]).ok
        assert store.knn("Someone plays music.", k=1)[0].id == "a"
    finally:
        client.indices.delete(index=store.index)


@pytest.mark.parametrize(
    "index_type, oversample",
    [
        ("hnsw", None),
        ("int8_hnsw", 2.0),
        ("int4_hnsw", None),
        ("bbq_hnsw", 3.0),
        ("flat", None),
        ("int8_flat", None),
        ("int4_flat", None),
        ("bbq_flat", None),
    ],
)
def test_explicit_index_types(minilm, index_type, oversample, index_name):
    client = connect(es_url())
    store = ElasticsearchStore(index_name, minilm, client=client)
    store.create_index(index_type=index_type, oversample=oversample)
    try:
        options = store.stored_contract()["index_options"]
        assert options["type"] == index_type
        if oversample:
            assert options["rescore_vector"]["oversample"] == oversample
        report = store.ingest([("a", "A man plays guitar."), ("b", "The stock market fell."), ("c", "A cat sleeps.")])
        assert report.ok and store.knn("Someone plays music.", k=1)[0].id == "a"
    finally:
        client.indices.delete(index=store.index)


def test_retries_and_waits_are_visible(caplog, store):
    # the 429 storm itself is in test_es_reliability.py; here: the defaults are in the report's terms
    from sbert_plugins.elasticsearch import RetryPolicy

    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_backoff, policy.max_backoff, policy.max_wait) == (5, 1.0, 30.0, 300.0)
    with caplog.at_level(logging.WARNING, logger="sbert_plugins.elasticsearch"):
        report = store.ingest([("a", "a dog")])
    assert report.retries == 0 and report.waited_seconds == 0 and not caplog.records
