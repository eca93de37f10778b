"""The ``sbert`` command: encode, pairs, search, eval-sts, bench, precision, plugins, train, es, spark-embed.

Each command group is one module of this package with a ``register(subparsers)`` that declares its
commands and their flags (the shared encode options come from ``options.add_encode_options``); a new
group is one module plus one entry in ``COMMANDS``. Every error is one line on stderr naming the value
and the fix: exit code 2 for usage errors (argparse), 1 for everything else. Parsing imports no
torch, so the CPU precision guard can run before torch loads.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._base.errors import SbertPluginsError
from . import encode, es, evaluate, plugins, precision, spark, train

DEBUG_ENV = "SBERT_DEBUG"  # set to 1 to see the traceback of an unexpected error
COMMANDS = (encode, evaluate, precision, plugins, train, es, spark)

DEBUG_ENV = "SBERT_DEBUG"  # set to 1 to see the traceback of an unexpected error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sbert", description="Sentence-BERT embeddings, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMANDS:  # each declares its own commands and flags
        group.register(sub)
    return parser


def _prepare_precision(args: argparse.Namespace) -> None:
    requested = [getattr(args, "dtype", "float32"), *getattr(args, "dtypes", [])]
    if any(d in ("auto", "bfloat16", "float16") for d in requested):
        from .._base.cpu import has_native_bf16, prepare_bf16_cpu

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
