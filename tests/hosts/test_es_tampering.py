"""Tampered or shared indices, races and giant documents against the suite's real Elasticsearch (trust issue,
items 6, 7, 9 and 12): each refused with EmbeddingContractError naming the field, or reported per document."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from support import assert_accounted

from sbert_plugins import EmbeddingContractError, InputError, VectorStoreError
from sbert_plugins.elasticsearch import ElasticsearchStore
from sbert_plugins.elasticsearch._bodies import META_KEY

pytestmark = pytest.mark.elasticsearch


@pytest.fixture()
def store(tiny_encoder, index_name, es_client):
    store = ElasticsearchStore(index_name, tiny_encoder, client=es_client)
    store.create_index(
        metadata_mapping={"tenant": {"type": "keyword"}, "other_vector": {"type": "dense_vector", "dims": 32}}
    )
    return store


def _tamper(store, **changes):
    meta = store.stored_contract()
    meta = {k: v for k, v in meta.items() if not k.startswith("_")}
    meta.update(changes)
    store.client.indices.put_mapping(index=store.index, meta={META_KEY: meta})


@pytest.mark.parametrize("value", ["a string", ["a", "list"], 42])
def test_a_meta_that_is_not_a_contract_is_refused_everywhere(store, value):
    store.client.indices.put_mapping(index=store.index, meta={META_KEY: value})
    for action in (
        store.check_contract,
        lambda: store.ingest([{"id": "a", "text": "a dog"}]),
        lambda: store.knn("a dog"),
    ):
        with pytest.raises(EmbeddingContractError, match=f"is a {type(value).__name__}, not the contract object"):
            action()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"text_field": "tenant"}, "text_field is 'tenant' in the index but 'text' in this store"),
        ({"vector_field": "other_vector"}, "vector_field is 'other_vector' in the index but 'embedding'"),
        ({"dims": "32"}, "dims='32' is not a int"),
        ({"fingerprint": None}, "fingerprint=None is not a str"),
    ],
)
def test_a_contract_pointing_at_other_fields_is_refused_naming_the_field(store, changes, match):
    _tamper(store, **changes)
    with pytest.raises(EmbeddingContractError, match=match):
        store.ingest([{"id": "a", "text": "a dog", "tenant": "acme"}])
    assert store.client.count(index=store.index)["count"] == 0  # nothing was written anywhere


def test_a_store_opened_with_other_fields_than_the_index_is_refused(store, tiny_encoder):
    other = ElasticsearchStore(store.index, tiny_encoder, client=store.client, text_field="body")
    with pytest.raises(EmbeddingContractError, match="pass text_field="):
        other.count()


def test_concurrent_create_index_with_exist_ok_both_succeed(tiny_encoder, index_name, es_client):
    for round_ in range(4):
        name = f"{index_name}-race{round_}"
        errors, barrier = [], threading.Barrier(2)

        def create(name=name, barrier=barrier, errors=errors):
            try:
                barrier.wait(timeout=30)
                ElasticsearchStore(name, tiny_encoder, client=es_client).create_index(exist_ok=True)
            except Exception as exc:  # collected: the test asserts there are none
                errors.append(exc)

        threads = [threading.Thread(target=create) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == [], errors
        ElasticsearchStore(name, tiny_encoder, client=es_client).check_contract()


def test_giant_documents_go_alone_and_never_take_a_small_neighbour(store):
    big = "the man plays guitar . " * 450_000  # ~10 MB each (the tiny model truncates; the text is stored whole)
    docs = [{"id": f"big{i}", "text": big} for i in range(3)] + [{"id": "small", "text": "a dog"}]
    with pytest.warns(UserWarning):
        report = store.ingest(docs, max_chunk_bytes=2_000_000)
    assert_accounted(report, [d["id"] for d in docs])
    assert "small" in report.indexed_ids
    for failure in report.failures:  # a big one the server refuses is reported as too large, not "overloaded"
        assert failure.kind == "too_large" and "too large" in failure.reason


def test_a_document_over_the_servers_request_limit_fails_as_too_large(store):
    huge = "x " * 60_000_000  # 120 MB: over http.max_content_length (100 MB) even alone
    docs = [{"id": "huge", "text": huge}, {"id": "small", "text": "a dog"}]
    with pytest.warns(UserWarning):
        report = store.ingest(docs)
    assert_accounted(report, ["huge", "small"])
    assert report.indexed_ids == ["small"] and report.failures[0].kind == "too_large"


def test_bm25_without_a_query_is_refused_before_sending(store):
    for bad in (None, "", "   "):
        with pytest.raises(InputError, match="give the text to search for"):
            store.bm25(bad)  # type: ignore[arg-type]


def test_a_write_block_is_named_as_such(store):
    store.client.indices.put_settings(index=store.index, settings={"index.blocks.write": True})
    try:
        with pytest.raises(VectorStoreError, match="because of a block, not the user's privileges") as caught:
            store.ingest([{"id": "a", "text": "a dog"}])
        assert "index.blocks.write" in str(caught.value)
    finally:
        store.client.indices.put_settings(index=store.index, settings={"index.blocks.write": None})
