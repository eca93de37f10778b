"""``sbert eval-sts`` (Spearman x 100 on the paper's STS sets) and ``sbert bench`` (sentences/s per dtype)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from .options import add_data_dir, add_encode_options, make_encoder, positive_int, shared_check


def register(sub: Any) -> None:
    p = sub.add_parser("eval-sts", help="Spearman x100 on STSb, SICK-R, STS12-16")
    p.add_argument("datasets", nargs="*", help="names (stsb, sickr, sts12..sts16) or .tsv files")
    add_data_dir(p)
    add_encode_options(p)
    p.set_defaults(func=cmd_eval_sts)
    p = sub.add_parser("bench", help="sentences/s on STSb sentences per dtype")
    p.add_argument("--n", type=positive_int, default=2000)
    p.add_argument("--dtypes", nargs="+", type=shared_check("dtype"), default=["float32", "bfloat16"])
    add_data_dir(p)
    add_encode_options(p)
    p.set_defaults(func=cmd_bench)


def cmd_eval_sts(args: argparse.Namespace) -> int:
    from .._base.eval_data import PAPER_SETS
    from .._features.evaluation import evaluate_sts

    encoder = make_encoder(args)
    print(f"{'dataset':<12}{'spearman':>10}{'pearson':>10}{'pairs':>8}")
    for name in args.datasets or PAPER_SETS:
        result = evaluate_sts(encoder, name, data_dir=args.data_dir)
        print(f"{result.dataset:<12}{result.spearman:>10.2f}{result.pearson:>10.2f}{result.pairs:>8}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .._base.eval_data import load_sts

    s1, s2, _ = load_sts("stsb", args.data_dir)
    texts = sorted(set(s1 + s2))[: args.n]
    for dtype in args.dtypes:
        args.dtype = dtype
        encoder = make_encoder(args)
        encoder.encode(texts[:64])  # warm-up
        start = time.perf_counter()
        encoder.encode(texts)
        elapsed = time.perf_counter() - start
        print(f"{encoder.dtype_name:<10}{len(texts) / elapsed:>10.1f} sentences/s  ({len(texts)} STSb sentences)")
    return 0
