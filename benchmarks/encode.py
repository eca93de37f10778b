"""Encode throughput vs sentence-transformers (same model, texts, threads), per dtype: its fp32 default
(batch 32) and its best bf16 batch are the baselines ("x ST same dtype" divides by the one of our dtype).
Then the same model as one ONNX graph under ONNX Runtime (fp32, dynamic int8) and OpenVINO (fp32, bf16),
where the `bench` extra installed them (benchmarks/_onnx.py; --no-onnx skips them).

Each configuration runs in its own subprocess (the best of --repeat timed passes, default 3): oneDNN's
ISA choice is per process (see sbert_plugins/_base/cpu.py), and a fresh process keeps runs independent.
Configurations ending in ``:compile`` load with ``compile=True``; their load time is printed beside
them: the first such process on a machine builds the compiled package, later ones load it (point
``SBERT_PLUGINS_CACHE`` at an empty folder to time a first build).

    python benchmarks/encode.py [--n 3000] [--model all-MiniLM-L6-v2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, "benchmarks")
from _common import stsb_sentences
cfg = json.loads(sys.argv[1])
import numpy as np, torch
texts = stsb_sentences(cfg["n"])
if cfg["kind"] == "onnx":
    from _onnx import OnnxEncoder
    from sbert_plugins import evaluate_sts
    model = OnnxEncoder(cfg["model"], cfg["runtime"], cfg["path"], torch.get_num_threads())
    enc = lambda t: model.encode(t, batch_size=cfg["batch_size"])
elif cfg["kind"] == "st":
    from sentence_transformers import SentenceTransformer
    from sbert_plugins import resolve_model
    model = SentenceTransformer(str(resolve_model(cfg["model"])), device="cpu")
    if cfg.get("dtype") == "bfloat16":
        model = model.to(torch.bfloat16)
    enc = lambda t: model.encode(t, batch_size=cfg.get("batch_size", 32))
else:
    from sbert_plugins import SentenceEncoder, evaluate_sts
    start = time.perf_counter()
    model = SentenceEncoder(cfg["model"], device="cpu", dtype=cfg["dtype"], compile=cfg.get("compile", False))
    load = time.perf_counter() - start
    enc = lambda t: model.encode(t, batch_size=cfg["batch_size"])
enc(texts[:64])
elapsed = float("inf")
for _ in range(cfg["repeat"]):  # the best of a few passes: other tenants of a shared machine add noise
    start = time.perf_counter(); vectors = enc(texts); elapsed = min(elapsed, time.perf_counter() - start)
out = {"rate": len(texts) / elapsed, "threads": torch.get_num_threads()}
np.save(cfg["save"], vectors)
if cfg["kind"] != "st":
    out["stsb"] = evaluate_sts(model, "stsb").spearman
if cfg["kind"] == "ours":
    out["load"] = load
print(json.dumps(out))
"""


def run(args: argparse.Namespace, cfg: dict) -> dict:
    """One configuration in its own process; the model, the texts and the passes are the run's."""
    shared = {"model": args.model, "n": args.n, "repeat": args.repeat}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps({**shared, **cfg})],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["crashed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=[
            "float32:32",
            "float32:64",
            "bfloat16:64",
            "bfloat16:128",
            "float32:64:compile",
            "bfloat16:64:compile",
        ],
        help="dtype:batch, or dtype:batch:compile for compile=True (its load, compile included, is printed)",
    )
    parser.add_argument("--st-bf16-batches", nargs="*", type=int, default=[32, 64, 128])
    parser.add_argument("--plot", default=None, help="write sentences/s per configuration to this PNG")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per configuration; the best counts")
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime / OpenVINO rows")
    args = parser.parse_args()
    from sbert_plugins._base.cpu import cpu_model

    print(f"CPU: {cpu_model()}; {args.n} STSb sentences; each configuration in its own process")
    base = run(args, {"kind": "st", "save": "/tmp/_bench_st.npy"})
    print(
        f"sentence-transformers fp32 (batch 32, its default): {base['rate']:.1f} sentences/s, threads={base['threads']}"
    )
    reference = np.load("/tmp/_bench_st.npy")
    rates = {"ST fp32:32": base["rate"]}
    best_bf16 = 0.0
    for batch in args.st_bf16_batches:  # its best bf16 batch: the baseline for our bf16
        st = run(args, {"kind": "st", "dtype": "bfloat16", "batch_size": batch, "save": "/tmp/_bench_st_bf16.npy"})
        if "error" not in st:
            best_bf16 = max(best_bf16, st["rate"])
            rates[f"ST bfloat16:{batch}"] = st["rate"]
            print(f"sentence-transformers bf16 (batch {batch}): {st['rate']:.1f} sentences/s")
    print(f"{'dtype:batch':<22}{'sent/s':>9}{'x ST':>7}{'x ST same dtype':>16}{'min cos':>9}{'STSb':>8}{'load s':>8}")
    for item in args.configs:
        dtype, batch, *compiled = item.split(":")
        cfg = {"kind": "ours", "dtype": dtype, "batch_size": int(batch), "compile": compiled == ["compile"]}
        res = run(args, {**cfg, "save": "/tmp/_bench_ours.npy"})
        if "error" in res:
            print(f"{item:<22} failed: {res['error']}")
            continue
        cos = min_cos("/tmp/_bench_ours.npy", reference)
        rates[f"ours {item}"] = res["rate"]
        same = base["rate"] if dtype == "float32" else best_bf16
        ratio = f"{res['rate'] / same:.2f}" if same else "-"
        print(
            f"{item:<22}{res['rate']:>9.1f}{res['rate'] / base['rate']:>7.2f}{ratio:>16}{cos:>9.5f}{res['stsb']:>8.2f}"
            f"{res['load']:>8.1f}"
        )
    if not args.no_onnx:
        onnx_rows(args, reference, rates)
    if args.plot:
        plot_rates(rates, args.plot, f"{cpu_model()}, {args.n} STSb sentences")


def min_cos(path: str, reference) -> float:
    """The lowest cosine between the vectors saved at ``path`` and sentence-transformers' fp32 ones."""
    import numpy as np

    vectors = np.load(path)
    cos = (vectors * reference).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(reference, axis=1)
    return float(cos.min())


def onnx_rows(args: argparse.Namespace, reference, rates: dict) -> None:
    """The ONNX runtimes on one exported graph, each in its own process (where they are installed)."""
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("onnxruntime", "openvino", "onnxscript")):
        print("ONNX Runtime / OpenVINO: not installed (pip install -e '.[bench]'), not compared")
        return
    path = f"/tmp/_bench_{args.model.replace('/', '_')}.onnx"  # exported once, kept for later runs
    exported = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, 'benchmarks'); import _onnx; _onnx.export({args.model!r}, {path!r})",
        ],
        capture_output=True,
        text=True,
    )
    if exported.returncode != 0:
        print(f"ONNX export failed: {(exported.stderr.strip().splitlines() or ['?'])[-1]}")
        return
    print("same model as one ONNX graph (length-sorted batches of 64, as sentence-transformers feeds it):")
    labels = {"ort": "ORT fp32", "ort-int8": "ORT int8", "ov": "OpenVINO fp32", "ov-bf16": "OpenVINO bf16"}
    for runtime, label in labels.items():
        cfg = {"kind": "onnx", "runtime": runtime, "path": path, "batch_size": 64, "save": "/tmp/_bench_onnx.npy"}
        res = run(args, cfg)
        if "error" in res:
            print(f"{label:<22} failed: {res['error']}")
            continue
        cos = min_cos("/tmp/_bench_onnx.npy", reference)
        rates[f"{label}:64"] = res["rate"]
        print(f"{label:<22}{res['rate']:>9.1f}{'':>7}{'':>16}{cos:>9.5f}{res['stsb']:>8.2f}")


def plot_rates(rates: dict, path: str, title: str) -> None:
    """A bar per configuration: sentences/s (ours blue, sentence-transformers grey, the ONNX runtimes orange)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rates)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    colors = ["#1f77b4" if n.startswith("ours") else "#999999" if n.startswith("ST") else "#e69f00" for n in names]
    ax.barh(names, [rates[n] for n in names], color=colors)
    for y, name in enumerate(names):
        ax.text(rates[name], y, f" {rates[name]:,.0f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("sentences / s (encode only, each configuration in its own process)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
