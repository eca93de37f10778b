"""Pair mining at scale: the exact top-k most similar pairs among N vectors (search only), ours with float32
products and with bf16 candidates + float64 rescoring, vs sentence-transformers' paraphrase_mining_embeddings,
each in its own process, with its peak memory.

The vectors are real sentence embeddings: the distinct sentences of ../shared/data (STS, SICK, NLI) encoded
with the packaged all-MiniLM-L6-v2, then, to reach N, copies with Gaussian noise (sigma 0.05 per dimension,
re-normalised), so the score distribution near the top stays that of real text (near-paraphrases included).

    python benchmarks/pairs_scale.py --n 100000 --top-k 1000 100000 [--skip-st]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = r"""
import json, resource, sys, time
import numpy as np
impl, path, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
x = np.load(path, mmap_mode="r")
x = np.ascontiguousarray(x)
start = time.perf_counter()
if impl == "st":
    import torch
    from sentence_transformers.util import paraphrase_mining_embeddings
    pairs = paraphrase_mining_embeddings(torch.from_numpy(x), top_k=100, max_pairs=k)
    kth = float(pairs[-1][0])
elif impl == "faiss":
    from sbert_plugins import approximate_similar_pairs
    pairs = approximate_similar_pairs(x, top_k=k, neighbors=int(sys.argv[5]))
    kth = pairs[-1][0]
else:
    from sbert_plugins import most_similar_pairs
    pairs = most_similar_pairs(x, top_k=k, matmul=impl.split("-")[0])
    kth = pairs[-1][0]
elapsed = time.perf_counter() - start
np.save(sys.argv[4], np.array([[int(p[1]), int(p[2])] for p in pairs], dtype=np.int64))
print(json.dumps({"seconds": elapsed, "kth": kth, "pairs": len(pairs),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def sentences() -> list[str]:
    data = os.environ.get("SBERT_DATA_DIR") or os.path.join(HERE, "..", "..", "shared", "data")
    seen: dict[str, None] = {}
    for path in sorted(glob.glob(os.path.join(data, "*", "*.tsv"))):
        with open(path, encoding="utf-8") as handle:
            next(handle)
            for line in handle:
                for text in line.rstrip("\n").split("\t")[1:3]:
                    if text.strip():
                        seen.setdefault(text, None)
    return list(seen)


def vectors(n: int, path: str) -> str:
    if os.path.exists(path) and np.load(path, mmap_mode="r").shape[0] == n:
        return path
    base_path = "/tmp/sbert-pairs-base.npy"  # every distinct sentence, encoded once
    if not os.path.exists(base_path):
        from sbert_plugins import SentenceEncoder

        texts = sentences()
        encoded = SentenceEncoder("all-MiniLM-L6-v2", device="cpu").encode(texts, batch_size=128)
        np.save(base_path, encoded.astype(np.float32))
        print(f"{len(texts)} distinct sentences encoded into {base_path}", file=sys.stderr)
    base = np.load(base_path)
    rng = np.random.default_rng(0)
    parts = [base]
    while sum(len(p) for p in parts) < n:
        noisy = base + rng.normal(scale=0.05, size=base.shape).astype(np.float32)
        parts.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    np.save(path, np.concatenate(parts)[:n].astype(np.float32))
    return path


def _recall(found: str, exact: str | None) -> str:
    """The share of the exact top-k pairs a configuration found ("-" when no exact run came before it)."""
    if exact is None or found == exact:
        return "-" if exact is None else "1.000"
    truth = {tuple(p) for p in np.load(exact).tolist()}
    return f"{len(truth & {tuple(p) for p in np.load(found).tolist()}) / len(truth):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--top-k", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--skip-st", action="store_true")
    parser.add_argument(
        "--only", nargs="+", default=None, help="configurations to run: float32 float32-blas bfloat16 st faiss"
    )
    parser.add_argument("--neighbors", type=int, default=32, help="faiss: neighbours per vector")
    args = parser.parse_args()
    from sbert_plugins._base.cpu import cpu_model

    path = vectors(args.n, f"/tmp/sbert-pairs-{args.n}.npy")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; {args.n} x 384 MiniLM vectors")
    print(f"{'configuration':<46}{'top k':>9}{'seconds':>10}{'peak MB':>10}{'k-th score':>12}{'recall':>9}")
    impls = args.only or ["float32", "bfloat16"] + ([] if args.skip_st else ["st"]) + ["faiss"]
    names = {
        "float32": "ours, float32 products",  # through oneDNN where the kernel verdict says it is faster
        "float32-blas": "ours, float32 products, torch's BLAS",
        "bfloat16": "ours, bf16 candidates + exact rescoring",
        "st": "sentence-transformers paraphrase_mining",
        "faiss": f"approximate (faiss HNSW, {args.neighbors} neighbours)",
    }
    exact: dict[int, str] = {}  # top k -> the exact pairs found (the first exact configuration run)
    for k in args.top_k:
        for impl in impls:
            start = time.perf_counter()
            found = f"/tmp/sbert-pairs-found-{impl}.npy"
            command = [sys.executable, "-c", WORKER, impl, path, str(k), found, str(args.neighbors)]
            env = {**os.environ, "SBERT_PLUGINS_CPU_LINEAR": "blas"} if impl.endswith("-blas") else None
            done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
            if done.returncode != 0:
                print(f"{names[impl]:<46}{k:>9}  failed: {done.stderr[-300:]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{names[impl]:<46}{k:>9}{r['seconds']:>10.1f}{r['peak_mb']:>10.0f}{r['kth']:>12.4f}"
                f"{_recall(found, exact.get(k)):>9}   (process {time.perf_counter() - start:.1f} s)"
            )
            if impl in ("bfloat16", "float32", "float32-blas"):
                exact[k] = found


if __name__ == "__main__":
    main()
