"""Elasticsearch: ingest throughput (ours vs naive "encode all, then helpers.bulk"), kNN recall@10
against exact brute force, and query latency p50/p95, on a real server.

    bash integrations/elasticsearch/es.sh start
    python benchmarks/es_ingest_search.py --url http://127.0.0.1:9250 [--n 20000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import stsb_sentences, timer
from elasticsearch import helpers

from sbert_plugins import SentenceEncoder, semantic_search
from sbert_plugins._evaluation import load_senteval
from sbert_plugins.elasticsearch import ElasticsearchStore, connect

warnings.filterwarnings("ignore")


def corpus(n: int) -> list:
    texts = stsb_sentences(n)
    if len(texts) < n:  # top up with SentEval MR/SUBJ sentences
        seen = set(texts)
        for task in ("MR", "SUBJ", "CR"):
            texts += [t for t in load_senteval(task)["all"][0] if t.strip() and t not in seen and not seen.add(t)]
    return texts[:n]


def naive_ingest(client, store, texts, index: str) -> None:
    vectors = store.encoder.encode(texts, batch_size=64)  # everything in memory at once
    helpers.bulk(
        client,
        (
            {"_index": index, "_id": str(i), "_source": {"text": t, "embedding": v.tolist()}}
            for i, (t, v) in enumerate(zip(texts, vectors, strict=False))
        ),
        chunk_size=500,
    )
    client.indices.refresh(index=index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:9250")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--index-type", default="int8_hnsw")
    args = parser.parse_args()
    client = connect(args.url, request_timeout=120)
    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cpu")
    texts = corpus(args.n)
    t: dict = {}
    stores = {}
    for name in ("bench-ours", "bench-naive"):
        client.indices.delete(index=name, ignore_unavailable=True)
        stores[name] = ElasticsearchStore(name, encoder, client=client, batch_size=64)
        stores[name].create_index(index_type=args.index_type)
    with timer(t, "ours"):
        report = stores["bench-ours"].ingest(({"id": str(i), "text": x} for i, x in enumerate(texts)), chunk_size=500)
    with timer(t, "naive"):
        naive_ingest(client, stores["bench-naive"], texts, "bench-naive")
    assert report.ok, report
    print(
        f"ingest {len(texts)} docs ({args.index_type}): ours {len(texts) / t['ours']:.0f} docs/s "
        f"({t['ours']:.1f}s, bounded memory), naive encode-all+bulk {len(texts) / t['naive']:.0f} docs/s "
        f"({t['naive']:.1f}s); ratio {t['naive'] / t['ours']:.2f}x"
    )
    recall_and_latency(stores["bench-ours"], encoder, texts, args.queries)


def recall_and_latency(store, encoder, texts, n_queries: int) -> None:
    rng = np.random.default_rng(0)
    queries = [texts[i] for i in rng.choice(len(texts), n_queries, replace=False)]
    corpus_vectors = encoder.encode(texts, batch_size=64)
    exact = semantic_search(encoder.encode(queries), corpus_vectors, top_k=10)
    recalls, latencies = [], []
    for query, truth in zip(queries, exact, strict=False):
        start = time.perf_counter()
        hits = store.knn(query, k=10, num_candidates=100)
        latencies.append(1000 * (time.perf_counter() - start))
        recalls.append(len({h.id for h in hits} & {str(x.corpus_id) for x in truth}) / 10)
    p50, p95 = np.percentile(latencies, [50, 95])
    print(
        f"kNN k=10 num_candidates=100 over {len(texts)} docs: recall@10 vs exact {np.mean(recalls):.3f}; "
        f"latency (encode query + contract check + search) p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )


if __name__ == "__main__":
    main()
