"""Elasticsearch: recall@10 against exact search, query latency p50/p95 and index size per index type,
on whichever server major the URL points at (run it once per major); and ingest throughput of the
bounded-memory ingest against a naive "encode all, then helpers.bulk" loop.

    bash scripts/es_server.sh start                                   # 9.x, 9.x client
    python benchmarks/es_ingest_search.py --url http://127.0.0.1:9250 [--n 20000]
    SBERT_ES_VERSION=8.19.7 bash scripts/es_server.sh start           # 8.x ...
    PYTHONPATH=.venv-es8 python benchmarks/es_ingest_search.py --url http://127.0.0.1:9250
    python benchmarks/es_ingest_search.py --mode ingest                           # ours vs naive ingest
    python benchmarks/es_ingest_search.py --mode elements [--plot recall_size.png]  # float / byte / bit

``--mode elements`` compares how the vectors are stored (float, byte = int8, bit = sign bits, each on an HNSW
index, with and without the float rescoring of the top k * oversample candidates): recall@10 against exact
search, latency, and size: the whole index after a force-merge, the searched field's kNN structures
(vectors + graph, what the HNSW search walks) and the float copy's, per the disk-usage API; and can draw
recall against the searched size.

The corpus (STSb then SentEval sentences) is embedded once with all-MiniLM-L6-v2 and cached in
--cache, so both majors index the same vectors; latency is the search alone (query vectors are
precomputed), exact truth is brute-force cosine over the same vectors.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _common import stsb_sentences, timer
from elasticsearch import helpers

from sbert_plugins import SentenceEncoder, load_senteval, semantic_search
from sbert_plugins.elasticsearch import ElasticsearchStore, connect, server_version

warnings.filterwarnings("ignore")
TYPES = ("auto", "hnsw", "int8_hnsw", "int4_hnsw", "bbq_hnsw", "flat", "int8_flat", "int4_flat", "bbq_flat")


def corpus(n: int) -> list:
    texts = stsb_sentences(n)
    if len(texts) < n:  # top up with SentEval MR/SUBJ/CR sentences
        seen = set(texts)
        for task in ("MR", "SUBJ", "CR"):
            texts += [t for t in load_senteval(task)["all"][0] if t.strip() and t not in seen and not seen.add(t)]
    return texts[:n]


def vectors(encoder, texts: list, queries: list, cache: Path) -> tuple:
    if cache.is_file():
        data = np.load(cache)
        if data["docs"].shape[0] == len(texts):
            return data["docs"], data["queries"]
    docs, qs = encoder.encode(texts), encoder.encode(queries)
    np.savez(cache, docs=docs, queries=qs)
    return docs, qs


def load_index(store, texts: list, docs: np.ndarray) -> float:
    start = time.perf_counter()
    actions = (
        {"_index": store.index, "_id": str(i), "_source": {"text": t, "embedding": v.tolist()}}
        for i, (t, v) in enumerate(zip(texts, docs, strict=True))
    )
    helpers.bulk(store.client, actions, chunk_size=1000, request_timeout=300)
    store.client.indices.refresh(index=store.index)
    loaded = time.perf_counter() - start
    # One segment, so the size on disk and the latency do not depend on when background merges ran.
    store.client.indices.forcemerge(index=store.index, max_num_segments=1, request_timeout=600)
    store.client.indices.refresh(index=store.index)  # releases the pre-merge segments the reader still held
    return loaded


def knn(store, vector: np.ndarray) -> dict:
    return store.client.search(
        index=store.index,
        knn={"field": "embedding", "query_vector": vector.tolist(), "k": 10, "num_candidates": 100},
        size=10,
        source=False,
    )


def search_stats(store, queries: np.ndarray, truth: list) -> tuple:
    recalls, latencies = [], []
    for vector in queries[:50]:  # untimed warm-up, so the first index type measured pays no JVM/cache warm-up
        knn(store, vector)
    for vector, exact in zip(queries, truth, strict=True):
        start = time.perf_counter()
        found = knn(store, vector)
        latencies.append(1000 * (time.perf_counter() - start))
        ids = {h["_id"] for h in found["hits"]["hits"]}
        recalls.append(len(ids & {str(h.corpus_id) for h in exact}) / 10)
    return float(np.mean(recalls)), *np.percentile(latencies, [50, 95])


def types_table(args, client, encoder) -> None:
    texts = corpus(args.n)
    rng = np.random.default_rng(0)
    queries = [texts[i] for i in rng.choice(len(texts), args.queries, replace=False)]
    docs, qs = vectors(encoder, texts, queries, Path(args.cache))
    truth = semantic_search(qs, docs, top_k=10)
    major = server_version(client, args.url)
    print(
        f"Elasticsearch {major}, {len(texts)} docs x {docs.shape[1]} dims, {len(queries)} queries, k=10, "
        "num_candidates=100 (latency: search only; size after a force-merge to one segment)"
    )
    print(f"{'index type':<12}{'effective':>28}{'recall@10':>11}{'p50 ms':>8}{'p95 ms':>8}{'size MB':>9}{'load s':>8}")
    for kind in TYPES:
        store = ElasticsearchStore(f"bench-{kind}", encoder, client=client)
        client.indices.delete(index=store.index, ignore_unavailable=True)
        store.create_index(index_type=kind)
        effective = store.stored_contract()["index_options"]
        loaded = load_index(store, texts, docs)
        recall, p50, p95 = search_stats(store, qs, truth)
        size = client.indices.stats(index=store.index, metric="store")["_all"]["primaries"]["store"]["size_in_bytes"]
        label = effective.get("type", "?") + (
            f" os={effective['rescore_vector']['oversample']:g}" if "rescore_vector" in effective else ""
        )
        print(f"{kind:<12}{label:>28}{recall:>11.3f}{p50:>8.1f}{p95:>8.1f}{size / 2**20:>9.1f}{loaded:>8.1f}")
        client.indices.delete(index=store.index)


ELEMENTS = (  # (label, element_type, keep the float copy, oversample)
    ("float hnsw", "float", False, None),
    ("byte", "byte", False, None),
    ("byte + rescore x4", "byte", True, 4.0),
    ("bit", "bit", False, None),
    ("bit + rescore x4", "bit", True, 4.0),
    ("bit + rescore x10", "bit", True, 10.0),
)


def load_form(store, texts: list, docs: np.ndarray) -> None:
    from sbert_plugins.elasticsearch._vectors import VectorForm

    form = VectorForm.from_contract(store.stored_contract())
    actions = (
        {"_index": store.index, "_id": str(i), "_source": {"text": t, **form.fields("embedding", v)}}
        for i, (t, v) in enumerate(zip(texts, docs, strict=True))
    )
    helpers.bulk(store.client, actions, chunk_size=1000, request_timeout=300)
    store.client.indices.refresh(index=store.index)
    store.client.indices.forcemerge(index=store.index, max_num_segments=1, request_timeout=600)
    store.client.indices.refresh(index=store.index)


def form_search(store, oversample, vector: np.ndarray) -> list:
    """The store's own kNN path (quantized query, float rescoring on the client) for a precomputed vector."""
    return store.knn_vector(vector, k=10, num_candidates=max(100, 10 * int(oversample or 1)), oversample=oversample)


def knn_bytes(client, index: str) -> tuple[float, float]:
    """Bytes of the kNN structures (vectors + graph) of the searched field and of the float copy, per the
    disk-usage API ((0, 0) if the server refuses it)."""
    try:
        usage = client.indices.disk_usage(index=index, run_expensive_tasks=True).body[index]["fields"]
    except Exception:
        return 0.0, 0.0
    knn = {name: float(f.get("knn_vectors_in_bytes", 0)) for name, f in usage.items()}
    return knn.get("embedding", 0.0), knn.get("embedding_float", 0.0)


def elements_table(args, client, encoder) -> None:
    texts = corpus(args.n)
    rng = np.random.default_rng(0)
    queries = [texts[i] for i in rng.choice(len(texts), args.queries, replace=False)]
    docs, qs = vectors(encoder, texts, queries, Path(args.cache))
    truth = [{str(h.corpus_id) for h in hits} for hits in semantic_search(qs, docs, top_k=10)]
    print(f"Elasticsearch {server_version(client, args.url)}, {len(texts)} docs x {docs.shape[1]} dims, k=10")
    print(
        f"{'stored as':<20}{'recall@10':>10}{'p50 ms':>8}{'p95 ms':>8}{'size MB':>9}{'searched MB':>12}{'float MB':>9}"
    )
    rows = []
    for label, element, keep, oversample in ELEMENTS:
        store = ElasticsearchStore("bench-elements", encoder, client=client)
        client.indices.delete(index=store.index, ignore_unavailable=True)
        store.create_index(
            index_type="hnsw",
            element_type=element,
            calibration=docs[:1000] if element == "byte" else None,
            keep_float=keep,
        )
        load_form(store, texts, docs)
        for v in qs[:50]:
            form_search(store, oversample, v)
        recalls, latencies = [], []
        for v, exact in zip(qs, truth, strict=True):
            start = time.perf_counter()
            hits = form_search(store, oversample, v)
            latencies.append(1000 * (time.perf_counter() - start))
            recalls.append(len({h.id for h in hits} & exact) / 10)
        size = client.indices.stats(index=store.index, metric="store")["_all"]["primaries"]["store"]["size_in_bytes"]
        searched, copy = (b / 2**20 for b in knn_bytes(client, store.index))
        p50, p95 = np.percentile(latencies, [50, 95])
        rows.append((label, float(np.mean(recalls)), size / 2**20, searched))
        print(
            f"{label:<20}{np.mean(recalls):>10.3f}{p50:>8.1f}{p95:>8.1f}{size / 2**20:>9.1f}{searched:>12.1f}"
            f"{copy:>9.1f}"
        )
        client.indices.delete(index=store.index)
    if args.plot:
        plot_recall_size(rows, args.plot)


def plot_recall_size(rows: list, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, recall, _, knn_mb in rows:
        ax.scatter(knn_mb, recall)
        ax.annotate(label, (knn_mb, recall), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("searched field: vectors + graph, MB (the float copy is only read to rescore)")
    ax.set_ylabel("recall@10 vs exact")
    ax.set_title("Elasticsearch: recall vs size per element type")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


def naive_ingest(client, store, texts, index: str) -> None:
    vectors = store.encoder.encode(texts)  # everything in memory at once
    helpers.bulk(
        client,
        (
            {"_index": index, "_id": str(i), "_source": {"text": t, "embedding": v.tolist()}}
            for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
        ),
        chunk_size=500,
    )
    client.indices.refresh(index=index)


def ingest_comparison(args, client, encoder) -> None:
    texts, t, stores = corpus(args.n), {}, {}
    for name in ("bench-ours", "bench-naive"):
        client.indices.delete(index=name, ignore_unavailable=True)
        stores[name] = ElasticsearchStore(name, encoder, client=client)
        stores[name].create_index()
    with timer(t, "ours"):
        report = stores["bench-ours"].ingest(({"id": str(i), "text": x} for i, x in enumerate(texts)))
    with timer(t, "naive"):
        naive_ingest(client, stores["bench-naive"], texts, "bench-naive")
    assert report.ok, report
    print(
        f"ingest {len(texts)} docs: ours {len(texts) / t['ours']:.0f} docs/s ({t['ours']:.1f} s, bounded memory), "
        f"naive encode-all + bulk {len(texts) / t['naive']:.0f} docs/s ({t['naive']:.1f} s); "
        f"ratio {t['naive'] / t['ours']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:9250")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--mode", choices=["types", "ingest", "elements"], default="types")
    parser.add_argument("--plot", default=None, help="--mode elements: write recall vs size to this PNG")
    parser.add_argument("--cache", default="/tmp/sbert_es_bench_vectors.npz")
    args = parser.parse_args()
    client = connect(args.url, request_timeout=300)
    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cpu", dtype="float32")
    modes = {"types": types_table, "ingest": ingest_comparison, "elements": elements_table}
    modes[args.mode](args, client, encoder)


if __name__ == "__main__":
    main()
