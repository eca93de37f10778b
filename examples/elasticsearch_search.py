"""Elasticsearch end to end against a real server: create a dense_vector index from the
encoder, ingest documents with their embeddings, then kNN, filtered and hybrid (BM25 + kNN, RRF)
queries, and a zero-downtime re-embed behind an alias.

    bash scripts/es_server.sh start
    python examples/elasticsearch_search.py --url http://127.0.0.1:9250
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sbert_plugins import shared_encoder
from sbert_plugins.elasticsearch import ElasticsearchStore

SENTENCES = Path(__file__).resolve().parent / "sentences.txt"


def documents():
    for i, line in enumerate(SENTENCES.read_text().splitlines()):
        yield {"id": f"s{i}", "text": line, "topic": "food" if "onion" in line else "other"}


def run(url: str, alias: str = "sbert-example") -> dict:
    encoder = shared_encoder("all-MiniLM-L6-v2", device="cpu")
    store = ElasticsearchStore(alias, encoder, url=url)
    existing = store.client.options(ignore_status=404).indices.get_alias(name=alias).body
    for name in [] if "error" in existing else list(existing):  # start clean on re-runs
        store.client.indices.delete(index=name)
    store.create_alias_index(index_type="int8_hnsw")
    report = store.ingest(documents())
    out = {
        "report": str(report),
        "knn": [(h.id, round(h.score, 3), h.source["text"]) for h in store.knn("Someone plays music", k=2)],
        "filtered": [h.source["text"] for h in store.knn("cooking", k=2, filter={"topic": "food"})],
        "hybrid": [h.source["text"] for h in store.hybrid("film", k=3)],
    }
    out["reembedded_into"] = store.reembed(documents(), encoder, delete_old=True, index_type="flat")
    out["after_swap"] = [h.id for h in store.knn("Someone plays music", k=2)]
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:9250")
    for key, value in run(parser.parse_args().url).items():
        print(f"{key}: {value}")
