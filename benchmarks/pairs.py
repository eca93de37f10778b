"""The paper's task: the most similar pair among 10,000 STSb sentences, end to end
(load + encode + search), ours vs sentence-transformers (encode + its paraphrase_mining).

    python benchmarks/pairs.py [--n 10000]
"""
from __future__ import annotations

import argparse
import warnings

from _common import stsb_sentences, timer

warnings.filterwarnings("ignore")


def ours(texts, model: str) -> dict:
    t: dict = {}
    with timer(t, "total"):
        with timer(t, "load"):
            from sbert_plugins import SentenceEncoder, most_similar_pairs

            encoder = SentenceEncoder(model, device="cpu")
        with timer(t, "encode"):
            vectors = encoder.encode(texts, batch_size=32)
        with timer(t, "search"):
            best = most_similar_pairs(vectors, top_k=1)[0]
    t["best"] = best
    return t


def baseline(texts, model: str) -> dict:
    t: dict = {}
    with timer(t, "total"):
        with timer(t, "load"):
            from sentence_transformers import SentenceTransformer, util

            from sbert_plugins import resolve_model

            st = SentenceTransformer(str(resolve_model(model)), device="cpu")
        with timer(t, "encode"):
            vectors = st.encode(texts, batch_size=32, convert_to_tensor=True)
        with timer(t, "search"):
            best = util.paraphrase_mining_embeddings(vectors, top_k=1)[0]
    t["best"] = tuple(best)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    texts = stsb_sentences(args.n)
    a, b = ours(texts, args.model), baseline(texts, args.model)
    for name, r in (("sbert-plugins", a), ("sentence-transformers", b)):
        print(f"{name:<22} load {r['load']:.2f}s  encode {r['encode']:.2f}s  search {r['search']:.2f}s  "
              f"total {r['total']:.2f}s  best pair {r['best']}")
    print(f"{len(texts)} sentences; ratio (baseline total / ours total): {b['total'] / a['total']:.2f}x")


if __name__ == "__main__":
    main()
