"""The in-memory store implements the whole VectorStore protocol (the Elasticsearch store's tests run the
same operations against a real server): duplicates policy, get/delete/count/update, safe filters."""

from __future__ import annotations

import pytest

from sbert_plugins import ConfigError, Filter, InMemoryStore, InputError
from sbert_plugins.testing import FakeEncoder

DOCS = [
    {"id": "a", "text": "the dog runs in the park", "tenant": "acme", "year": 2020},
    {"id": "b", "text": "a cat sits on the mat", "tenant": "acme", "year": 2022},
    {"id": "c", "text": "the dog eats food", "tenant": "other", "year": 2024},
]


@pytest.fixture()
def store():
    store = InMemoryStore(FakeEncoder())
    assert store.ingest(DOCS).indexed == 3
    return store


def test_duplicate_policies(store):
    again = [{"id": "a", "text": "the dog runs fast"}, {"id": "d", "text": "new"}, {"id": "d", "text": "newer"}]
    overwrite = store.ingest(again)
    assert overwrite.indexed == 2 and overwrite.duplicates == ["d"] and store.get(["d"])["d"]["text"] == "newer"
    skip = store.ingest(again, on_duplicate="skip")
    assert skip.indexed == 0 and sorted(skip.skipped) == ["a", "d"] and skip.duplicates == ["d"]
    fail = store.ingest(again, on_duplicate="fail")
    assert [f.kind for f in fail.failures] == ["exists", "exists", "duplicate"]
    for report in (overwrite, skip, fail):
        assert report.received == report.indexed + len(report.failures) + len(report.skipped) + len(report.duplicates)
    with pytest.raises(ConfigError, match="on_duplicate='ignore'"):
        store.ingest(again, on_duplicate="ignore")


def test_get_count_update_delete(store):
    assert store.count() == 3 and store.count({"tenant": "acme"}) == 2
    assert store.update_metadata(["a", "zzz"], {"reviewed": True}) == 1
    assert store.get(["a", "zzz"]) == {"a": {**{k: v for k, v in DOCS[0].items() if k != "id"}, "reviewed": True}}
    with pytest.raises(InputError, match="cannot change 'text'"):
        store.update_metadata(["a"], {"text": "x"})
    assert store.delete(["a", "zzz"]) == 1 and store.count() == 2
    assert store.delete_by_filter({"year": {"gte": 2023}}) == 1 and [*store.get(["b", "c"])] == ["b"]


def test_safe_filters_only_narrow(store):
    assert {h.id for h in store.search("the dog", k=10, filter={"tenant": "acme"})} == {"a", "b"}
    assert {h.id for h in store.search("the dog", k=10, filter={"year": [2020, 2024]})} == {"a", "c"}
    assert {h.id for h in store.search("the dog", k=10, filter={"year": {"gt": 2020, "lte": 2022}})} == {"b"}
    hostile = {"bool": {"should": [{"term": {"tenant": "acme"}}, {"match_all": {}}]}}
    with pytest.raises(ConfigError, match="raw_filter"):
        store.search("the dog", filter=hostile)
    for bad in ({"tenant": {"match_all": {}}}, {"_id": "a"}, {"tenant": None}, {"year": float("nan")}, {"t": []}):
        with pytest.raises(ConfigError):
            Filter(bad)


def test_ids_over_512_bytes_are_reported_alone(store):
    report = store.ingest([{"id": "x" * 513, "text": "long id"}, {"id": "ok", "text": "fine"}])
    assert report.indexed == 1 and report.failures[0].kind == "invalid" and "513 bytes" in report.failures[0].reason
