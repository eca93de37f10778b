"""The ``sbert`` command: encode, pairs, search, eval-sts, bench, plugins, train, es, spark-embed.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._errors import ConfigError, SbertPluginsError
from ._options import OPTIONS, EncodeOptions, check_pooling

DEBUG_ENV = "SBERT_DEBUG"  # set to 1 to see the traceback of an unexpected error


def _checked(name: str, convert: Callable[[str], Any] = str) -> Callable[[str], Any]:
    """An argparse ``type`` that runs the option's shared check (bad values exit 2 with its message)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
            return OPTIONS[name].check(value)
        except (ConfigError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _pooling(text: str) -> Any:
    return check_pooling(text.split(",") if "," in text else text)


def add_encode_options(parser: argparse.ArgumentParser, **defaults: Any) -> None:
    """The shared encode options as flags, with the shared defaults (``defaults`` overrides one, e.g. train)."""
    group = parser.add_argument_group("encode options (shared by every host; see docs/api.md)")
    for name, option in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        default = defaults.get(name, option.default)
        if name == "normalize":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=option.help)
        elif name in ("batch_size", "max_seq_length"):
            group.add_argument(flag, type=_checked(name, int), default=default, help=option.help)
        elif name == "pooling":
            group.add_argument(flag, type=_pooling, default=default, help=option.help + " (a,b concatenates)")
        else:
            group.add_argument(flag, type=_checked(name), default=default, help=f"{option.help} (default: {default})")


def encode_options(args: argparse.Namespace) -> EncodeOptions:
    return EncodeOptions(**{name: getattr(args, name) for name in OPTIONS})


def make_encoder(args: argparse.Namespace) -> Any:
    from ._encoder import SentenceEncoder

    options = encode_options(args)
    return SentenceEncoder(options.model, **options.encoder_kwargs())


def read_lines(path: str) -> list[str]:
    """Non-blank lines of a UTF-8 file ('-' for stdin); blank lines are skipped and counted."""
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"input file {path!r} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"cannot read input file {path!r}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"input file {path!r} is not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
                "convert it, e.g. `iconv -f latin1 -t utf-8`"
            ) from None
    lines = text.splitlines()
    kept = [line for line in lines if line.strip()]
    if len(kept) < len(lines):
        print(f"skipped {len(lines) - len(kept)} blank line(s) in {path}", file=sys.stderr)
    return kept


def check_writable(path: str) -> None:
    """Fail before any work when the output cannot be written."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ConfigError(f"output {path!r} is a folder; give a file name such as out.npy")
    if not folder.is_dir():
        raise ConfigError(f"output folder {str(folder)!r} does not exist; create it first")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"output {path!r} is not writable; choose another path")


def cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    if args.output:
        check_writable(args.output)
    texts = args.texts or read_lines(args.input)
    vectors = make_encoder(args).encode(texts, normalize=bool(args.normalize))
    if args.output is None or args.output.endswith(".jsonl"):
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:
            for text, vector in zip(texts, vectors, strict=True):
                out.write(json.dumps({"text": text, "embedding": [round(float(v), 6) for v in vector]}) + "\n")
        finally:
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


def cmd_plugins(args: argparse.Namespace) -> int:
    from ._plugins import get_plugin_manager

    manager = get_plugin_manager()
    for info in manager.describe():
        print(f"{info.name}\t{info.source}\n    hooks: {', '.join(info.hooks)}")
    for label, hook in (("pooling", "pooling_strategies"), ("chunkers", "chunkers"), ("vector stores", "vector_stores")):
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
    p.add_argument("--dtypes", nargs="+", type=_checked("dtype"), default=["float32", "bfloat16"])
    p.set_defaults(func=cmd_bench)


def build_parser() -> argparse.ArgumentParser:
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
