"""The paper's task: the most similar pair among 10,000 STSb sentences, end to end
(imports + load + encode + search), ours vs sentence-transformers (its encode + paraphrase_mining).
Each side runs in its own fresh process so both pay for importing torch and transformers.

    python benchmarks/pairs.py [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
warnings.filterwarnings("ignore")
sys.path.insert(0, "benchmarks")
from _common import stsb_sentences
impl, n, model = sys.argv[1], int(sys.argv[2]), sys.argv[3]
texts = stsb_sentences(n)
t = {}
start = time.perf_counter()
if impl == "ours":
    from sbert_plugins import SentenceEncoder, most_similar_pairs
    encoder = SentenceEncoder(model, device="cpu")
    t["load"] = time.perf_counter() - start; start = time.perf_counter()
    vectors = encoder.encode(texts)
    t["encode"] = time.perf_counter() - start; start = time.perf_counter()
    best = most_similar_pairs(vectors, top_k=1)[0]
else:
    from sentence_transformers import SentenceTransformer, util
    from sbert_plugins import resolve_model
    st = SentenceTransformer(str(resolve_model("all-MiniLM-L6-v2")), device="cpu")
    t["load"] = time.perf_counter() - start; start = time.perf_counter()
    vectors = st.encode(texts, convert_to_tensor=True)
    t["encode"] = time.perf_counter() - start; start = time.perf_counter()
    best = util.paraphrase_mining_embeddings(vectors, top_k=1)[0]
t["search"] = time.perf_counter() - start
t["total"] = time.perf_counter() - t0
t["best"] = [float(best[0]), int(best[1]), int(best[2])]
print(json.dumps(t))
"""


def run(impl: str, n: int, model: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WORKER, impl, str(n), model],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    a, b = run("ours", args.n, args.model), run("st", args.n, args.model)
    for name, r in (("sbert-plugins", a), ("sentence-transformers", b)):
        print(
            f"{name:<22} imports+load {r['load']:.2f}s  encode {r['encode']:.2f}s  search {r['search']:.2f}s  "
            f"in-process total {r['total']:.2f}s  (whole process {r['process']:.2f}s)  best pair {r['best']}"
        )
    print(
        f"{args.n} sentences; ratio (baseline / ours): in-process {b['total'] / a['total']:.2f}x, "
        f"encode {b['encode'] / a['encode']:.2f}x"
    )


if __name__ == "__main__":
    main()
