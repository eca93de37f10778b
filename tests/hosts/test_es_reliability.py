"""Failure modes against real Elasticsearch nodes started by scripts/es_server.sh:
a node killed mid-ingest, bulk rejections (429), a 2-node cluster losing a node."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from support import es, es_url

from sbert_plugins.elasticsearch import ElasticsearchStore, RetryPolicy, connect

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]
N_DOCS = 1000


def corpus():
    return [{"id": f"doc-{i}", "text": f"the man plays guitar number {i}"} for i in range(N_DOCS)]


@pytest.fixture()
def victim_node():
    """A separate node on :9280 that the test may kill (the shared one stays up)."""
    es_url()  # skip without the ES setup
    env = {"SBERT_ES_NAME": "victim", "SBERT_ES_PORT": "9280"}
    es("wipe", **env)
    es("start", **env)
    yield env
    es("wipe", **env)


def test_killed_mid_ingest_reports_then_rerun_completes(victim_node, tiny_encoder):
    store = ElasticsearchStore(
        "killed", tiny_encoder, client=connect("http://127.0.0.1:9280", max_retries=1), batch_size=100
    )
    store.create_index()

    def killing(docs):
        for n, doc in enumerate(docs):
            if n == 350:
                es("stop", **victim_node)  # the server dies while the ingest runs
            yield doc

    with pytest.warns(RuntimeWarning, match="ingest stopped early"):
        report = store.ingest(killing(corpus()), chunk_size=100, encode_window=100)
    assert report.error and 0 < report.indexed < N_DOCS
    failed = set(report.failed_ids)
    assert len(failed) + report.indexed == N_DOCS  # every document is accounted for
    es("start", **victim_node)
    store.client = connect("http://127.0.0.1:9280")
    rerun = store.ingest(corpus(), chunk_size=100)
    assert rerun.ok and rerun.indexed == N_DOCS
    assert store.client.count(index="killed")["count"] == N_DOCS  # no duplicates


def test_bulk_rejections_are_retried_then_reported(tiny_encoder, caplog):
    caplog.set_level("WARNING", logger="sbert_plugins.elasticsearch")
    es_url()
    env = {
        "SBERT_ES_NAME": "pressure",
        "SBERT_ES_PORT": "9285",
        "SBERT_ES_EXTRA_CONFIG": "indexing_pressure.memory.limit: 1b",
    }
    es("wipe", **env)
    es("start", **env)
    try:
        store = ElasticsearchStore("pressured", tiny_encoder, client=connect("http://127.0.0.1:9285"))
        store.create_index()
        report = store.ingest(corpus()[:20], chunk_size=10, retry=RetryPolicy(max_retries=2, initial_backoff=0.1))
        assert report.indexed == 0 and len(report.failures) == 20
        # the server saw each of the 2 chunks 3 times: the first try and 2 retries
        stats = store.client.nodes.stats(metric="indexing_pressure").body["nodes"]
        totals = [n["indexing_pressure"]["memory"]["total"] for n in stats.values()]
        assert sum(t["coordinating_rejections"] + t["primary_rejections"] for t in totals) == 2 * 3
        assert all("429" in f.reason or "rejected" in f.reason for f in report.failures)
        # the backoff is visible: counted in the report and logged (2 chunks x 2 retries, 0.1 s then 0.2 s)
        assert report.retries == 4 and abs(report.waited_seconds - 0.6) < 1e-9
        assert sum("rejected with 429" in r.getMessage() for r in caplog.records) == 4
    finally:
        es("wipe", **env)


def test_a_stalled_server_is_reported_not_raised(victim_node, tiny_encoder):
    """A paused node (SIGSTOP: sockets open, no answers) mid-ingest: the run stops with a report that
    accounts for every document; queries say the server stalled; after resume a re-run completes."""
    from sbert_plugins import StoreUnavailableError

    client = connect("http://127.0.0.1:9280", request_timeout=3, max_retries=0)
    store = ElasticsearchStore("stalled", tiny_encoder, client=client, batch_size=100)
    store.create_index()

    def pausing(docs):
        for n, doc in enumerate(docs):
            if n == 600:
                es("pause", **victim_node)
            yield doc

    try:
        with pytest.warns(RuntimeWarning, match="ingest stopped early"):
            report = store.ingest(pausing(corpus()), chunk_size=100, encode_window=100)
        assert report.error and "did not answer within the request timeout" in report.error
        assert report.received == N_DOCS == report.indexed + len(report.failures)
        assert report.not_sent and {f.kind for f in report.failures} <= {"unacknowledged", "not_sent"}
        with pytest.raises(StoreUnavailableError, match="did not answer within the request timeout"):
            store.knn("a dog")
        with pytest.raises(StoreUnavailableError):
            store.create_index(exist_ok=True)
    finally:
        es("resume", **victim_node)
    rerun = store.ingest(corpus(), chunk_size=100)
    assert rerun.ok and store.count() == N_DOCS


@pytest.fixture()
def cluster():
    es_url()
    es("cluster-start")
    yield ["http://127.0.0.1:9260", "http://127.0.0.1:9261"]
    es("cluster-stop")


def test_replica_keeps_answering_after_a_node_stops(cluster, minilm):
    client = connect(cluster, retry_on_timeout=True, max_retries=3)
    store = ElasticsearchStore("replicated", minilm, client=client)
    store.client.indices.delete(index="replicated", ignore_unavailable=True)
    store.create_index(replicas=1, shards=2)
    assert store.ingest(
        [
            {"id": f"d{i}", "text": t}
            for i, t in enumerate(
                ["A man is playing a guitar.", "A woman is slicing an onion.", "Dogs run across the grass."]
            )
        ]
    ).ok
    client.cluster.health(index="replicated", wait_for_status="green", timeout="60s")
    es("cluster-stop-node", "b")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):  # repeated: the client must route around the dead node every time
            hits = store.knn("Someone plays an instrument.", k=1)
            assert hits[0].id == "d0"
