"""The ``sbert`` command: encode, pairs, search, eval-sts, bench, plugins, train."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import List, Optional

from ._errors import SbertPluginsError
from ._loading import DEFAULT_MODEL
from ._train_cli import add_train_parser


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL, help="folder or packaged/plugin model name")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:0 (default: cuda if present)")
    parser.add_argument("--dtype", default="float32", help="float32 or bfloat16 (AMX on recent CPUs)")
    parser.add_argument("--batch-size", type=int, default=64)


def _encoder(args: argparse.Namespace):
    from ._encoder import SentenceEncoder

    return SentenceEncoder(args.model, device=args.device, dtype=args.dtype)


def read_lines(path: str) -> List[str]:
    """Non-blank lines of a UTF-8 file ('-' for stdin); blank lines are skipped and counted."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    kept = [line for line in lines if line.strip()]
    if len(kept) < len(lines):
        print(f"skipped {len(lines) - len(kept)} blank line(s) in {path}", file=sys.stderr)
    return kept


def cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    texts = args.texts or read_lines(args.input)
    vectors = _encoder(args).encode(texts, batch_size=args.batch_size, normalize=args.normalize)
    if args.output is None or args.output.endswith(".jsonl"):
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
        for text, vector in zip(texts, vectors):
            out.write(json.dumps({"text": text, "embedding": [round(float(v), 6) for v in vector]}) + "\n")
        if args.output:
            out.close()
    else:
        np.save(args.output, vectors)
    if args.output:
        print(f"wrote {vectors.shape[0]} x {vectors.shape[1]} embeddings to {args.output}", file=sys.stderr)
    return 0


def cmd_pairs(args: argparse.Namespace) -> int:
    from ._similarity import most_similar_pairs

    start = time.perf_counter()
    sentences = read_lines(args.file)
    encoder = _encoder(args)
    loaded = time.perf_counter()
    vectors = encoder.encode(sentences, batch_size=args.batch_size, show_progress_bar=args.progress)
    encoded = time.perf_counter()
    pairs = most_similar_pairs(vectors, top_k=args.top_k)
    done = time.perf_counter()
    for score, i, j in pairs:
        print(f"{score:.4f}\t{sentences[i]}\t{sentences[j]}")
    print(f"{len(sentences)} sentences: load {loaded - start:.2f}s, encode {encoded - loaded:.2f}s, "
          f"search {done - encoded:.2f}s, total {done - start:.2f}s", file=sys.stderr)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from ._similarity import semantic_search

    corpus = read_lines(args.corpus)
    encoder = _encoder(args)
    corpus_vectors = encoder.encode(corpus, batch_size=args.batch_size)
    hits = semantic_search(encoder.encode(args.queries), corpus_vectors, top_k=args.top_k)
    for query, results in zip(args.queries, hits):
        print(f"query: {query}")
        for hit in results:
            print(f"  {hit.score:.4f}\t{corpus[hit.corpus_id]}")
    return 0


def cmd_eval_sts(args: argparse.Namespace) -> int:
    from ._evaluation import PAPER_SETS, evaluate_sts

    encoder = _encoder(args)
    print(f"{'dataset':<12}{'spearman':>10}{'pearson':>10}{'pairs':>8}")
    for name in args.datasets or PAPER_SETS:
        result = evaluate_sts(encoder, name, batch_size=args.batch_size)
        print(f"{result.dataset:<12}{result.spearman:>10.2f}{result.pearson:>10.2f}{result.pairs:>8}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ._evaluation import load_sts

    s1, s2, _ = load_sts("stsb")
    texts = sorted(set(s1 + s2))[: args.n]
    for dtype in args.dtypes:
        args.dtype = dtype
        encoder = _encoder(args)
        encoder.encode(texts[:64], batch_size=args.batch_size)  # warm-up
        start = time.perf_counter()
        encoder.encode(texts, batch_size=args.batch_size)
        elapsed = time.perf_counter() - start
        print(f"{dtype:<10}{len(texts) / elapsed:>10.1f} sentences/s  ({len(texts)} STSb sentences)")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from ._plugins import collect_mapping, get_plugin_manager
    from .models import available_pooling

    manager = get_plugin_manager()
    for info in manager.describe():
        print(f"{info.name}\t{info.source}\n    hooks: {', '.join(info.hooks)}")
    print("pooling:", ", ".join(sorted(available_pooling())))
    print("chunkers:", ", ".join(sorted(collect_mapping("sbert_chunkers"))))
    print("vector stores:", ", ".join(sorted(collect_mapping("sbert_vector_stores"))))
    for error in manager.errors:
        print(f"ERROR {error}")
    return 1 if manager.errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sbert", description="Sentence-BERT embeddings, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("encode", help="embed texts (arguments or --input file) to .npy or .jsonl")
    p.add_argument("texts", nargs="*")
    p.add_argument("--input", "-i", help="file with one text per line ('-' for stdin)")
    p.add_argument("--output", "-o", help="out.npy or out.jsonl (default: jsonl on stdout)")
    p.add_argument("--normalize", action="store_true")
    p.set_defaults(func=cmd_encode)
    p = sub.add_parser("pairs", help="most similar sentence pairs in a file (the paper's task)")
    p.add_argument("file")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--progress", action="store_true")
    p.set_defaults(func=cmd_pairs)
    p = sub.add_parser("search", help="semantic search of queries in a corpus file")
    p.add_argument("--corpus", required=True)
    p.add_argument("queries", nargs="+")
    p.add_argument("--top-k", type=int, default=5)
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("eval-sts", help="Spearman x100 on STSb, SICK-R, STS12-16")
    p.add_argument("datasets", nargs="*", help="names (stsb, sickr, sts12..sts16) or .tsv files")
    p.set_defaults(func=cmd_eval_sts)
    p = sub.add_parser("bench", help="sentences/s on STSb sentences per dtype")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("plugins", help="list registered plugins and what they provide")
    p.set_defaults(func=cmd_plugins)
    for name, action in sub.choices.items():
        if name != "plugins":
            _add_model_args(action)
    add_train_parser(sub, _add_model_args)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    requested = [getattr(args, "dtype", "float32"), *getattr(args, "dtypes", [])]  # bench runs several
    if any(str(d) in ("bfloat16", "bf16", "float16", "fp16") for d in requested):
        from ._cpu import prepare_bf16_cpu  # before torch starts oneDNN

        prepare_bf16_cpu()
    if getattr(args, "command", None) == "encode" and not args.texts and not args.input:
        print("sbert encode: give texts as arguments or --input FILE", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except SbertPluginsError as exc:
        print(f"sbert {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
