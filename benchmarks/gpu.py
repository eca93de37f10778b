"""The paper's headline on a GPU, ours vs sentence-transformers on the same card, ratios in one run.

    bash benchmarks/gpu_bundle.sh            # here: float16 MiniLM copy + STSb into .gpu/ (git-ignored, carried)
    python benchmarks/gpu.py --bundle .gpu   # on the device (run with carry [".gpu"])
    python benchmarks/gpu.py --smoke         # here, on CPU, tiny sizes: checks the script itself

Prints (and writes to $OUT/gpu.json when $OUT is set): the card and its measured bf16 / fp16 matmul
rate; encode throughput for 10k STSb sentences and 1M sentences (STSb repeated with a counter
suffix) per dtype, ours (default batch for the device) vs sentence-transformers at its default
batch 32 and at its best batch; the paper's task end to end (load reported separately) for 10k and
1M sentences with peak GPU memory; the achieved fraction of the card's bf16 rate for the transformer
forward (FLOPs counted from tokens); optionally (--train) the STSb fine-tune wall time and score.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def card(device: str) -> dict:
    info = {"torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "device": device}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        )
        info["driver"] = smi.stdout.strip()
        for name in ("bfloat16", "float16"):
            info[f"{name}_matmul_tflops"] = round(matmul_tflops(DTYPES[name], device), 1)
    else:
        from sbert_plugins._base.cpu import cpu_model

        info["cpu"] = cpu_model()
    return info


def matmul_tflops(dtype: torch.dtype, device: str, n: int = 8192) -> float:
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    sync(device)
    return 2 * n**3 * 10 / (time.perf_counter() - start) / 1e12


def sentences(bundle: Path | None, n: int) -> list[str]:
    from sbert_plugins import load_sts

    data = str(bundle / "data") if bundle else None
    s1, s2, _ = load_sts("stsb-train", data_dir=data)
    base = list(dict.fromkeys(s for pair in zip(s1, s2, strict=True) for s in pair if s.strip()))
    if n <= len(base):
        return base[:n]
    return [f"{base[i % len(base)]} ({i // len(base)})" for i in range(n)]  # distinct, realistic lengths


def timed(fn, device: str) -> tuple[float, object]:
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - start, out


def ours(model: str, device: str, dtype: str):
    from sbert_plugins import SentenceEncoder

    return SentenceEncoder(model, device=device, dtype=dtype)


def theirs(folder: str, device: str, dtype: str):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(folder, device=device)
    return model.to(DTYPES[dtype])


def encode_rates(model: str, folder: str, texts: list[str], device: str, dtype: str, st_batches: list[int]) -> dict:
    ours_encoder = ours(model, device, dtype)
    ours_encoder.encode(texts[:512])
    seconds, _ = timed(lambda: ours_encoder.encode(texts, convert_to="torch"), device)
    row = {"ours": len(texts) / seconds, "ours_batch": ours_encoder.batch_size}
    st = theirs(folder, device, dtype)
    st.encode(texts[:512], batch_size=32)
    rates = {}
    for batch in st_batches:
        seconds, _ = timed(lambda b=batch: st.encode(texts, batch_size=b, convert_to_tensor=True), device)
        rates[batch] = len(texts) / seconds
    row.update(st_default=rates[st_batches[0]], st_best=max(rates.values()), st_best_batch=max(rates, key=rates.get))
    row.update(vs_default=row["ours"] / row["st_default"], vs_best=row["ours"] / row["st_best"])
    return row


def pairs_task(model: str, texts: list[str], device: str, dtype: str, top_k: int) -> dict:
    from sbert_plugins import most_similar_pairs

    load, encoder = timed(lambda: ours(model, device, dtype), device)
    encoder.encode(texts[:256])
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    encode, vectors = timed(lambda: encoder.encode(texts, convert_to="torch"), device)
    search, pairs = timed(lambda: most_similar_pairs(vectors, top_k=top_k), device)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else float("nan")
    tokens = sum(len(ids) for ids in encoder.transformer.token_ids(texts))
    return {
        "n": len(texts),
        "load_s": load,
        "encode_s": encode,
        "search_s": search,
        "task_s": encode + search,
        "peak_gib": peak,
        "tokens": tokens,
        "best": pairs[0][0],
        "flops": forward_flops(encoder, texts),
    }


def forward_flops(encoder, texts: list[str]) -> float:
    """Transformer forward FLOPs from token counts: 2 x (non-embedding params) per token + attention."""
    config = encoder.transformer.auto_model.config
    params = sum(p.numel() for n, p in encoder.transformer.auto_model.named_parameters() if "embeddings" not in n)
    lengths = [min(len(ids), encoder.max_seq_length) for ids in encoder.transformer.token_ids(texts)]
    attention = sum(4 * n * n * config.hidden_size * config.num_hidden_layers for n in lengths)
    return float(2 * params * sum(lengths) + attention)


def train_run(model: str, device: str, bundle: Path | None) -> dict:
    from sbert_plugins import SentenceEncoder, evaluate_sts, load_sts
    from sbert_plugins.training import CosineSimilarityLoss, TrainConfig, fit, sts_evaluator, sts_examples

    data = str(bundle / "data") if bundle else None
    encoder = SentenceEncoder(model, device=device, dtype="float32")
    config = TrainConfig(epochs=4, batch_size=16, lr=2e-5, warmup_ratio=0.1, eval_every=180, autocast="bfloat16")
    seconds, _ = timed(
        lambda: fit(
            encoder,
            sts_examples("stsb-train", data_dir=data),
            CosineSimilarityLoss(),
            config,
            evaluator=sts_evaluator(*load_sts("stsb-dev", data)),
            output_path="/tmp/stsb-gpu",
        ),
        device,
    )
    best = SentenceEncoder(Path("/tmp/stsb-gpu"), device=device, dtype="float32")
    return {"seconds": seconds, "stsb_test": evaluate_sts(best, "stsb", data_dir=data).spearman}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=None, help="folder from gpu_bundle.sh (model/, data/)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny sizes: check the script")
    args = parser.parse_args()
    if args.smoke:
        args.device, args.n, args.big = "cpu", 300, 600
    model = str(args.bundle.resolve() / "model") if args.bundle else "all-MiniLM-L6-v2"
    from sbert_plugins import resolve_model

    folder = str(resolve_model(model if args.bundle is None else Path(model)))
    model = folder
    results: dict = {"card": card(args.device), "encode": {}, "pairs": {}}
    dtypes = ["float32"] if args.smoke else ["float32", "float16", "bfloat16"]
    batches = [32, 64] if args.smoke else [32, 64, 128, 256, 512, 1024]
    for size in (args.n, args.big):
        texts = sentences(args.bundle, size)
        for dtype in dtypes:
            results["encode"][f"{size}/{dtype}"] = encode_rates(model, folder, texts, args.device, dtype, batches)
            if args.device.startswith("cuda"):
                torch.cuda.empty_cache()  # the two encoders of that dtype are gone
            print(json.dumps({f"encode {size} {dtype}": results["encode"][f"{size}/{dtype}"]}), flush=True)
        top_k = 10 if size == args.n else 100
        results["pairs"][size] = pairs_task(
            model, texts, args.device, "float16" if not args.smoke else "float32", top_k
        )
        row = results["pairs"][size]
        row["tflops"] = row["flops"] / row["encode_s"] / 1e12
        rate = results["card"].get("bfloat16_matmul_tflops")
        row["fraction_of_bf16_rate"] = row["tflops"] / rate if rate else None
        print(json.dumps({f"pairs {size}": row}), flush=True)
    if args.train:
        results["train"] = train_run(model, args.device, args.bundle)
        print(json.dumps({"train": results["train"]}), flush=True)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results["card"]))


if __name__ == "__main__":
    main()
