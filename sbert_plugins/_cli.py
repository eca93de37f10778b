"""The ``sbert`` command: encode, pairs, search, eval-sts, bench, precision, plugins, train, es, spark-embed.

Every error is one line on stderr naming the value and the fix: exit code 2 for
usage errors (argparse), 1 for everything else. Parsing imports no torch, so the
CPU precision guard can run before torch loads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from ._cli_options import add_encode_options, check_writable, make_encoder, positive_int, read_lines, shared_check
from ._errors import ConfigError, SbertPluginsError

DEBUG_ENV = "SBERT_DEBUG"  # set to 1 to see the traceback of an unexpected error


def cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    if args.output:
        check_writable(args.output)
    texts = args.texts or read_lines(args.input)
    vectors = make_encoder(args).encode(texts, normalize=bool(args.normalize))
    try:
        if args.output is None or args.output.endswith(".jsonl"):
            _write_jsonl(args.output, texts, vectors)
        else:
            np.save(args.output, vectors)
    except OSError as exc:
        raise ConfigError(f"cannot write output {args.output!r}: {exc.strerror or exc}") from None
    if args.output:
        print(f"wrote {vectors.shape[0]} x {vectors.shape[1]} embeddings to {args.output}", file=sys.stderr)
    return 0


def _write_jsonl(path: str | None, texts: list[str], vectors: Any) -> None:
    out = open(path, "w", encoding="utf-8") if path else sys.stdout  # noqa: SIM115
    try:
        for text, vector in zip(texts, vectors, strict=True):
            out.write(json.dumps({"text": text, "embedding": [round(float(v), 6) for v in vector]}) + "\n")
    finally:
        if path:
            out.close()


def cmd_pairs(args: argparse.Namespace) -> int:
    from ._similarity import most_similar_pairs

    start = time.perf_counter()
    sentences = read_lines(args.file)
    encoder = make_encoder(args)
    loaded = time.perf_counter()
    vectors = encoder.encode(sentences, show_progress_bar=args.progress, convert_to="torch")
    encoded = time.perf_counter()
    pairs = most_similar_pairs(vectors, top_k=args.top_k)
    done = time.perf_counter()
    for score, i, j in pairs:
        print(f"{score:.4f}\t{sentences[i]}\t{sentences[j]}")
    print(
        f"{len(sentences)} sentences: load {loaded - start:.2f}s, encode {encoded - loaded:.2f}s, "
        f"search {done - encoded:.2f}s, total {done - start:.2f}s",
        file=sys.stderr,
    )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from ._similarity import semantic_search

    corpus = read_lines(args.corpus)
    encoder = make_encoder(args)
    corpus_vectors = encoder.encode(corpus, convert_to="torch")
    hits = semantic_search(encoder.encode(args.queries, convert_to="torch"), corpus_vectors, top_k=args.top_k)
    for query, results in zip(args.queries, hits, strict=True):
        print(f"query: {query}")
        for hit in results:
            print(f"  {hit.score:.4f}\t{corpus[hit.corpus_id]}")
    return 0


def cmd_eval_sts(args: argparse.Namespace) -> int:
    from ._data import PAPER_SETS
    from ._evaluation import evaluate_sts

    encoder = make_encoder(args)
    print(f"{'dataset':<12}{'spearman':>10}{'pearson':>10}{'pairs':>8}")
    for name in args.datasets or PAPER_SETS:
        result = evaluate_sts(encoder, name, data_dir=args.data_dir)
        print(f"{result.dataset:<12}{result.spearman:>10.2f}{result.pearson:>10.2f}{result.pairs:>8}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ._data import load_sts

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


def cmd_precision(args: argparse.Namespace) -> int:
    """What dtype='auto' picks on this CPU, from the cached verdict (measured now if missing)."""
    from . import _cpu

    if args.remeasure:
        removed = _cpu.forget()
        print(f"{'removed' if removed else 'no'} cached verdicts at {_cpu.verdict_path()}")
    from ._precision import auto_cpu_dtype, matmul_gflops

    print(f"CPU: {_cpu.cpu_model()}; native bf16 (AMX / AVX512-BF16): {'yes' if _cpu.has_native_bf16() else 'no'}")
    forced = _cpu.forced_cpu_dtype()
    if forced:
        print(f"${_cpu.DTYPE_ENV}={forced}: auto takes it without measuring")
    elif _cpu.has_native_bf16():
        print(f"AMX traps: {'yes (oneDNN capped)' if _cpu.amx_traps() else 'no'}")
        fp32, bf16 = matmul_gflops("float32"), matmul_gflops("bfloat16")
        print(f"matmul GFLOP/s: float32 {fp32:.1f}, bfloat16 {bf16:.1f} ({bf16 / fp32:.2f}x)")
    print(f"dtype='auto' on CPU: {auto_cpu_dtype()}  (cache: {_cpu.verdict_path()})")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from ._plugins import get_plugin_manager

    manager = get_plugin_manager()
    for info in manager.describe():
        print(f"{info.name}\t{info.source}\n    hooks: {', '.join(info.hooks)}")
    for label, hook in (
        ("pooling", "pooling_strategies"),
        ("chunkers", "chunkers"),
        ("vector stores", "vector_stores"),
    ):
        provided = manager.contributions(f"sbert_{hook}")
        print(f"{label}: " + ", ".join(f"{name} ({plugin})" for name, (plugin, _) in sorted(provided.items())))
    for error in manager.errors:
        print(f"ERROR {error}")
    return 1 if manager.errors else 0


def _subcommands(sub: Any) -> None:
    p = sub.add_parser("encode", help="embed texts (arguments or --input file) to .npy or .jsonl")
    p.add_argument("texts", nargs="*")
    p.add_argument("--input", "-i", help="file with one text per line ('-' for stdin)")
    p.add_argument("--output", "-o", help="out.npy or out.jsonl (default: jsonl on stdout)")
    p.set_defaults(func=cmd_encode)
    p = sub.add_parser("pairs", help="most similar sentence pairs in a file (the paper's task)")
    p.add_argument("file")
    p.add_argument("--top-k", type=positive_int, default=10)
    p.add_argument("--progress", action="store_true")
    p.set_defaults(func=cmd_pairs)
    p = sub.add_parser("search", help="semantic search of queries in a corpus file")
    p.add_argument("--corpus", required=True)
    p.add_argument("queries", nargs="+")
    p.add_argument("--top-k", type=positive_int, default=5)
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("eval-sts", help="Spearman x100 on STSb, SICK-R, STS12-16")
    p.add_argument("datasets", nargs="*", help="names (stsb, sickr, sts12..sts16) or .tsv files")
    p.set_defaults(func=cmd_eval_sts)
    p = sub.add_parser("bench", help="sentences/s on STSb sentences per dtype")
    p.add_argument("--n", type=positive_int, default=2000)
    p.add_argument("--dtypes", nargs="+", type=shared_check("dtype"), default=["float32", "bfloat16"])
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("precision", help="what dtype=auto picks on this CPU, and the cached measurements")
    p.add_argument("--remeasure", action="store_true", help="forget the cached verdicts and measure again")
    p.set_defaults(func=cmd_precision)


def build_parser() -> argparse.ArgumentParser:
    from ._es_cli import add_es_parser
    from ._spark_cli import add_spark_parser
    from ._train_cli import add_train_parser

    parser = argparse.ArgumentParser(prog="sbert", description="Sentence-BERT embeddings, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    _subcommands(sub)
    for name, action in sub.choices.items():
        add_encode_options(action)
        if name in ("eval-sts", "bench"):
            action.add_argument("--data-dir", default=None, help="evaluation data folder (default: $SBERT_DATA_DIR)")
    p = sub.add_parser("plugins", help="list registered plugins and what they provide")
    p.set_defaults(func=cmd_plugins)
    add_train_parser(sub, add_encode_options)
    add_es_parser(sub, add_encode_options)
    add_spark_parser(sub, add_encode_options)
    return parser


def _prepare_precision(args: argparse.Namespace) -> None:
    requested = [getattr(args, "dtype", "float32"), *getattr(args, "dtypes", [])]
    if any(d in ("auto", "bfloat16", "float16") for d in requested):
        from ._cpu import has_native_bf16, prepare_bf16_cpu

        if has_native_bf16():  # before torch starts oneDNN
            prepare_bf16_cpu()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "encode" and not args.texts and not args.input:
        parser.exit(2, "sbert encode: error: give texts as arguments or --input FILE\n")
    _prepare_precision(args)
    try:
        return int(args.func(args))
    except SbertPluginsError as exc:
        print(f"sbert {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sbert {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure still gets one line, not a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"sbert {args.command}: unexpected error: {type(exc).__name__}: {exc} "
            f"(set {DEBUG_ENV}=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
