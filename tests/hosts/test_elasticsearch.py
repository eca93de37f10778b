"""ElasticsearchStore against a real server on 127.0.0.1 (SBERT_ES_URL)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from support import ES_SENTENCES as SENTENCES
from support import es_url

from sbert_plugins import (
    ConfigError,
    EmbeddingContractError,
    IngestError,
    SentenceEncoder,
    StoreUnavailableError,
    VectorStoreError,
)
from sbert_plugins.elasticsearch import ElasticsearchStore, connect

pytestmark = pytest.mark.elasticsearch


@pytest.fixture()
def client(es_client):
    return es_client


def docs(sentences=SENTENCES):
    return [{"id": f"d{i}", "text": s, "group": "even" if i % 2 == 0 else "odd"} for i, s in enumerate(sentences)]


def test_create_index_from_encoder(client, index_name, tiny_encoder):
    store = ElasticsearchStore(index_name, tiny_encoder, client=client)
    store.create_index(index_type="int8_hnsw", m=16, ef_construction=100)
    mapping = client.indices.get_mapping(index=index_name).body[index_name]["mappings"]
    field = mapping["properties"]["embedding"]
    assert field["dims"] == 32 and field["similarity"] == "cosine"  # tiny model does not normalise
    assert field["index_options"]["type"] == "int8_hnsw" and field["index_options"]["m"] == 16
    assert mapping["_meta"]["sbert_plugins"]["fingerprint"] == tiny_encoder.fingerprint


def test_dot_product_refused_for_unnormalised_encoder(client, index_name, tiny_encoder):
    with pytest.raises(ConfigError, match="unit-length"):
        ElasticsearchStore(index_name, tiny_encoder, client=client).create_index(similarity="dot_product")
    assert not client.indices.exists(index=index_name)


def test_ingest_and_knn(client, index_name, minilm):
    store = ElasticsearchStore(index_name, minilm, client=client)
    store.create_index()  # MiniLM normalises -> dot_product
    report = store.ingest(docs())
    assert report.ok and report.indexed == 10
    hits = store.knn("Someone is playing an instrument.", k=2)
    assert {h.id for h in hits} == {"d0", "d1"} and "embedding" not in hits[0].source
    filtered = store.knn("Someone is playing an instrument.", k=2, filter={"group": "odd"})
    assert all(h.source["group"] == "odd" for h in filtered)
    raw = store.knn("Someone is playing an instrument.", k=2, raw_filter={"term": {"group.keyword": "odd"}})
    assert [h.id for h in raw] == [h.id for h in filtered]
    assert store.knn("Someone is playing an instrument.", k=5, min_similarity=0.6)[-1].score >= 0.6 * 0.5


def test_exact_flat_index_matches_brute_force(client, index_name, minilm):
    store = ElasticsearchStore(index_name, minilm, client=client)
    store.create_index(index_type="flat")
    store.ingest(docs())
    query = "Animals running outside."
    vectors = minilm.encode(SENTENCES)
    expected = [f"d{i}" for i in np.argsort(-(vectors @ minilm.encode(query)))[:3]]
    assert [h.id for h in store.knn(query, k=3)] == expected


def test_hybrid_rrf(client, index_name, minilm):
    store = ElasticsearchStore(index_name, minilm, client=client)
    store.create_index()
    store.ingest(docs())
    hits = store.hybrid("onion", k=3)
    assert {"d2", "d3"} <= {h.id for h in hits}
    assert hits[0].score >= hits[-1].score


def test_reingest_is_idempotent(client, index_name, tiny_encoder):
    store = ElasticsearchStore(index_name, tiny_encoder, client=client)
    store.create_index()
    store.ingest(docs())
    store.ingest([(d["id"], d["text"], {"group": d["group"]}) for d in docs()])
    assert client.count(index=index_name)["count"] == 10


def test_bad_documents_and_partial_bulk_failures_are_reported(client, index_name, tiny_encoder):
    store = ElasticsearchStore(index_name, tiny_encoder, client=client)
    store.create_index(metadata_mapping={"year": {"type": "integer"}})
    batch = [
        {"id": "ok1", "text": "a dog", "year": 2020},
        {"id": "badyear", "text": "a cat", "year": "soon"},
        {"id": "empty", "text": "  "},
        {"text": "no id"},
        ("ok2", "red car"),
    ]
    report = store.ingest(batch)
    reasons = {f.id: f.reason for f in report.failures}
    assert report.indexed == 2 and set(reasons) == {"badyear", "empty", None}
    assert "failed to parse field [year]" in reasons["badyear"] and "no usable 'text'" in reasons["empty"]
    with pytest.raises(IngestError) as info:
        store.ingest(batch, raise_on_error=True)
    assert len(info.value.failures) == 3


def test_dims_mismatch_refused_before_any_write(client, index_name, tiny_encoder, minilm):
    ElasticsearchStore(index_name, tiny_encoder, client=client).create_index()
    other = ElasticsearchStore(index_name, minilm, client=client)
    with pytest.raises(EmbeddingContractError, match="dims: index has 32, encoder has 384"):
        other.ingest(docs())
    with pytest.raises(EmbeddingContractError):
        other.knn("a query")
    assert client.count(index=index_name)["count"] == 0


def test_same_dims_other_pooling_refused(client, index_name, tiny_model_dir):
    ElasticsearchStore(index_name, SentenceEncoder(str(tiny_model_dir), device="cpu"), client=client).create_index()
    max_pool = SentenceEncoder(str(tiny_model_dir), pooling="max", device="cpu")
    with pytest.raises(EmbeddingContractError, match="pooling: index has 'mean', encoder has 'max'"):
        ElasticsearchStore(index_name, max_pool, client=client).ingest(docs())


def test_unmanaged_index_refused(client, index_name, tiny_encoder):
    client.indices.create(index=index_name)
    with pytest.raises(EmbeddingContractError, match="not created by sbert-plugins"):
        ElasticsearchStore(index_name, tiny_encoder, client=client).ingest(docs())


def test_zero_downtime_reembed_swaps_alias(client, index_name, tiny_model_dir, minilm):
    old_encoder = SentenceEncoder(str(tiny_model_dir), device="cpu")
    store = ElasticsearchStore(index_name, old_encoder, client=client)
    first = store.create_alias_index()
    store.ingest(docs())
    second = store.reembed(docs(), minilm, delete_old=True)
    assert first != second and list(client.indices.get_alias(name=index_name).body) == [second]
    assert not client.indices.exists(index=first)
    assert store.knn("Someone is playing an instrument.", k=1)[0].id in ("d0", "d1")


def test_server_down_at_start_is_clear():
    with pytest.raises(StoreUnavailableError, match=r"cannot reach Elasticsearch.*The servers"):
        connect("http://127.0.0.1:1", max_retries=0)


def test_client_and_server_majors_match(client):
    from sbert_plugins.elasticsearch import client_major, server_version

    assert int(server_version(client, es_url()).split(".")[0]) == client_major()


def test_missing_index_is_clear(client, tiny_encoder):
    with pytest.raises(VectorStoreError, match="does not exist; call create_index"):
        ElasticsearchStore("no-such-index-xyz", tiny_encoder, client=client).knn("x")


def test_vector_store_plugin_hook_builds_it(client, index_name, tiny_encoder):
    from sbert_plugins import get_plugin_manager

    plugin, factory = get_plugin_manager().contributions("sbert_vector_stores")["elasticsearch"]
    store = factory(tiny_encoder, index=index_name, client=client)
    assert plugin == "elasticsearch"
    assert isinstance(store, ElasticsearchStore)
