"""The same VectorStore operations against both stores: the in-memory one and a real Elasticsearch
(9.x, and 8.x in CI's second pass). Code can switch stores and get the same answers."""

from __future__ import annotations

import pytest

from sbert_plugins import ConfigError, Filter, InMemoryStore, InputError
from sbert_plugins.testing import FakeEncoder

DOCS = [
    {"id": "a", "text": "the dog runs in the park", "tenant": "acme", "year": 2020},
    {"id": "b", "text": "a cat sits on the mat", "tenant": "acme", "year": 2022},
    {"id": "c", "text": "the dog eats food", "tenant": "other", "year": 2024},
]


def _memory(request, encoder):
    return InMemoryStore(encoder)


def _elasticsearch(request, encoder):
    pytest.importorskip("elasticsearch")
    from sbert_plugins.elasticsearch import ElasticsearchStore

    index, client = request.getfixturevalue("index_name"), request.getfixturevalue("es_client")  # deleted after
    store = ElasticsearchStore(index, encoder, client=client)
    store.create_index(metadata_mapping={"year": {"type": "integer"}, "tenant": {"type": "keyword"}})
    return store


@pytest.fixture(
    params=[
        pytest.param(_memory, id="memory"),
        pytest.param(_elasticsearch, id="elasticsearch", marks=pytest.mark.elasticsearch),
    ]
)
def store(request):
    encoder = FakeEncoder(prompts={"query": "query: ", "document": "passage: "})
    store = request.param(request, encoder)
    report = store.ingest(DOCS)
    assert report.indexed == 3 and report.ok
    return store


def test_duplicates_overwrite_skip_fail(store):
    again = [{"id": "a", "text": "the dog runs fast"}, {"id": "d", "text": "new"}, {"id": "d", "text": "newer"}]
    overwrite = store.ingest(again)
    assert (overwrite.indexed, overwrite.duplicates) == (2, ["d"])
    assert store.get(["d"])["d"]["text"] == "newer" and store.count() == 4
    skip = store.ingest(again, on_duplicate="skip")
    assert (skip.indexed, sorted(skip.skipped), skip.duplicates) == (0, ["a", "d"], ["d"])
    fail = store.ingest(again, on_duplicate="fail")
    assert [f.kind for f in fail.failures] == ["exists", "exists", "duplicate"]
    for report in (overwrite, skip, fail):
        assert report.received == report.indexed + len(report.failures) + len(report.skipped) + len(report.duplicates)
    with pytest.raises(ConfigError, match="on_duplicate='ignore'"):
        store.ingest(again, on_duplicate="ignore")


def test_get_count_update_delete(store):
    assert store.count() == 3 and store.count({"tenant": "acme"}) == 2
    assert store.update_metadata(["a"], {"reviewed": True}) == 1
    assert store.get(["a", "zzz"])["a"]["reviewed"] is True and "zzz" not in store.get(["a", "zzz"])
    with pytest.raises(InputError, match="cannot change 'text'"):
        store.update_metadata(["a"], {"text": "x"})
    assert store.delete(["a", "zzz"]) == 1 and store.count() == 2
    assert store.delete_by_filter({"year": {"gte": 2023}}) == 1 and list(store.get(["b", "c"])) == ["b"]


def test_safe_filters_narrow_and_hostile_dsl_is_refused(store):
    assert {h.id for h in store.search("the dog", k=10, filter={"tenant": "acme"})} == {"a", "b"}
    assert {h.id for h in store.search("the dog", k=10, filter={"year": [2020, 2024]})} == {"a", "c"}
    assert {h.id for h in store.search("the dog", k=10, filter={"year": {"gt": 2020, "lte": 2022}})} == {"b"}
    # an end user's "filter" that would widen the search across tenants
    hostile = {"bool": {"should": [{"term": {"tenant": "acme"}}, {"match_all": {}}]}}
    with pytest.raises(ConfigError, match="raw_filter"):
        store.search("the dog", filter=hostile)


def test_prompts_are_used_for_queries_and_documents(store):
    encoder = store.encoder
    encoder.prefixes.clear()
    store.ingest([{"id": "p", "text": "a prompt test"}])
    store.search("which prompt?", k=1)
    assert encoder.prefixes == ["passage: ", "query: "]


@pytest.mark.parametrize(
    "bad",
    [
        {"tenant": {"match_all": {}}},
        {"_id": "a"},
        {"tenant": None},
        {"year": float("nan")},
        {"t": []},
        ["tenant", "acme"],
    ],
)
def test_filters_refuse_what_is_not_a_value(bad):
    with pytest.raises(ConfigError):
        Filter(bad)


def test_ids_over_512_bytes_are_reported_alone(store):
    report = store.ingest([{"id": "x" * 513, "text": "long id"}, {"id": "ok", "text": "fine"}])
    assert report.indexed == 1 and report.failures[0].kind == "invalid" and "513 bytes" in report.failures[0].reason
