"""``sbert encode``, ``sbert pairs`` (the paper's task) and ``sbert search``: texts in, vectors or neighbours out."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .._base.errors import ConfigError
from .options import add_encode_options, check_writable, make_encoder, positive_int, read_lines


def register(sub: Any) -> None:
    p = sub.add_parser("encode", help="embed texts (arguments or --input file) to .npy or .jsonl")
    p.add_argument("texts", nargs="*")
    p.add_argument("--input", "-i", help="file with one text per line ('-' for stdin)")
    p.add_argument("--output", "-o", help="out.npy or out.jsonl (default: jsonl on stdout)")
    add_encode_options(p)
    p.set_defaults(func=cmd_encode)
    p = sub.add_parser("pairs", help="most similar sentence pairs in a file (the paper's task)")
    p.add_argument("file")
    p.add_argument("--top-k", type=positive_int, default=10)
    p.add_argument("--progress", action="store_true")
    add_encode_options(p)
    p.set_defaults(func=cmd_pairs)
    p = sub.add_parser("search", help="semantic search of queries in a corpus file")
    p.add_argument("--corpus", required=True)
    p.add_argument("queries", nargs="+")
    p.add_argument("--top-k", type=positive_int, default=5)
    add_encode_options(p)
    p.set_defaults(func=cmd_search)


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
    from .._features.pair_mining import most_similar_pairs

    start = time.perf_counter()
    sentences = read_lines(args.file)
    encoder = make_encoder(args)
    loaded = time.perf_counter()
    vectors = encoder.encode(sentences, show_progress_bar=args.progress, convert_to="torch")
    encoded = time.perf_counter()
    pairs = most_similar_pairs(vectors, top_k=args.top_k, similarity=encoder.similarity_fn_name)
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
    from .._features.similarity import semantic_search

    corpus = read_lines(args.corpus)
    encoder = make_encoder(args)
    corpus_vectors = encoder.encode(corpus, convert_to="torch")
    queries = encoder.encode(args.queries, convert_to="torch")
    hits = semantic_search(queries, corpus_vectors, top_k=args.top_k, similarity=encoder.similarity_fn_name)
    for query, results in zip(args.queries, hits, strict=True):
        print(f"query: {query}")
        for hit in results:
            print(f"  {hit.score:.4f}\t{corpus[hit.corpus_id]}")
    return 0
