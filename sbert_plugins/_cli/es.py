"""``sbert es create|ingest|search|count|delete``: an Elasticsearch index from the command line.

Credentials come from the environment, never from arguments (they would show in ``ps``):
``--api-key-env`` (default ``SBERT_ES_API_KEY``) or ``--user`` with ``--password-env``
(default ``SBERT_ES_PASSWORD``); ``--ca-certs`` for a private CA.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._base.errors import ConfigError
from .options import add_encode_options, make_encoder, positive_int, read_lines


def _connection_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("connection")
    group.add_argument("--url", default=None, help="default: $SBERT_ES_URL or http://127.0.0.1:9200")
    group.add_argument("--api-key-env", default="SBERT_ES_API_KEY", help="variable holding an API key")
    group.add_argument("--user", default=None, help="basic-auth user (password from --password-env)")
    group.add_argument("--password-env", default="SBERT_ES_PASSWORD", help="variable holding the password")
    group.add_argument("--ca-certs", default=None, help="CA certificate file for HTTPS")
    group.add_argument("--no-verify-certs", action="store_true", help="skip TLS verification (test clusters only)")


def _filter(text: str) -> tuple[str, Any]:
    field, sep, value = text.partition("=")
    if not sep or not field:
        raise argparse.ArgumentTypeError(
            f'--filter {text!r}: use FIELD=VALUE (VALUE may be JSON: 3, [1,2], {{"gte": 1}})'
        )
    try:
        return field, json.loads(value)
    except json.JSONDecodeError:
        return field, value


def register(sub: Any) -> None:
    es = sub.add_parser("es", help="Elasticsearch: create an index, ingest files, search, count, delete")
    verbs = es.add_subparsers(dest="es_command", required=True)
    specs = {
        "create": ("create an index for the encoder (dims, similarity, contract)", cmd_create),
        "ingest": ("embed and index a .jsonl ({id, text, ...}) or .txt file (one text per line)", cmd_ingest),
        "search": ("kNN / BM25 / hybrid search", cmd_es_search),
        "count": ("count documents (optionally filtered)", cmd_count),
        "delete": ("delete documents by id or filter", cmd_delete),
    }
    for verb, (help_text, func) in specs.items():
        p = verbs.add_parser(verb, help=help_text)
        p.add_argument("index")
        _connection_args(p)
        add_encode_options(p)
        p.set_defaults(func=func)
        if verb in ("search", "count", "delete"):
            p.add_argument("--filter", type=_filter, action="append", default=[], help="FIELD=VALUE (repeatable)")
    create, ingest, search, delete = (verbs.choices[v] for v in ("create", "ingest", "search", "delete"))
    create.add_argument(
        "--index-type", default="auto", help="auto (server default), hnsw, int8_hnsw, bbq_hnsw, flat..."
    )
    create.add_argument("--similarity", default=None)
    create.add_argument("--exist-ok", action="store_true")
    create.add_argument(
        "--element-type", default="float", choices=["float", "byte", "bit"], help="byte = int8, bit = sign bits"
    )
    create.add_argument(
        "--calibration", default=None, help="--element-type byte: a .txt of texts to take the scale from"
    )
    create.add_argument("--no-float-copy", action="store_true", help="byte / bit: keep no float vectors (no rescoring)")
    ingest.add_argument("file", help=".jsonl or .txt ('-' for stdin, read as .txt)")
    ingest.add_argument("--text-field", default="text")
    ingest.add_argument("--on-duplicate", default="overwrite", choices=["overwrite", "skip", "fail"])
    ingest.add_argument("--chunk-size", type=positive_int, default=500)
    ingest.add_argument("--failures", default=None, help="write every failure as JSONL here")
    search.add_argument("query")
    search.add_argument("--k", type=positive_int, default=10)
    search.add_argument("--mode", choices=["knn", "bm25", "hybrid"], default="knn")
    delete.add_argument("--ids", nargs="+", default=None)


def _store(args: argparse.Namespace) -> Any:
    from ..elasticsearch import ElasticsearchStore

    api_key = os.environ.get(args.api_key_env) or None
    password = os.environ.get(args.password_env)
    if args.user and password is None:
        raise ConfigError(f"--user {args.user!r} needs the password in ${args.password_env}")
    return ElasticsearchStore(
        args.index,
        make_encoder(args),
        url=args.url,
        api_key=api_key,
        basic_auth=(args.user, password) if args.user and password is not None else None,
        ca_certs=args.ca_certs,
        verify_certs=False if args.no_verify_certs else None,
    )


def cmd_create(args: argparse.Namespace) -> int:
    name = _store(args).create_index(
        index_type=args.index_type,
        similarity=args.similarity,
        exist_ok=args.exist_ok,
        element_type=args.element_type,
        calibration=read_lines(args.calibration) if args.calibration else None,
        keep_float=not args.no_float_copy,
    )
    print(f"index {name!r} ready", file=sys.stderr)
    return 0


def _documents(path: str, text_field: str) -> Iterator[Any]:
    """Documents of a .jsonl file, or texts of a .txt file with content ids (re-runs never duplicate)."""
    from .._base.documents import content_id

    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if path.endswith(".jsonl"):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:  # reported as that line's failure, the rest goes on
                    yield {"id": f"{Path(path).name}:{number} (invalid JSON: {str(exc)[:80]})", text_field: None}
            else:
                text = line.rstrip("\n")
                yield {"id": content_id(text), text_field: text}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path!r} is not UTF-8 ({exc}); convert it first") from None
    finally:
        if handle is not sys.stdin:
            handle.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.file != "-" and not Path(args.file).is_file():
        raise ConfigError(f"input file {args.file!r} does not exist")
    store = _store(args)
    store.text_field = args.text_field
    report = store.ingest(
        _documents(args.file, args.text_field),
        on_duplicate=args.on_duplicate,
        chunk_size=args.chunk_size,
        progress=sys.stderr.isatty(),
    )
    print(f"{args.index}: {report}", file=sys.stderr)
    if args.failures:
        with open(args.failures, "w", encoding="utf-8") as out:
            for failure in report.failures:
                out.write(json.dumps({"id": failure.id, "kind": failure.kind, "reason": failure.reason}) + "\n")
    return 0 if report.ok else 1


def cmd_es_search(args: argparse.Namespace) -> int:
    store = _store(args)
    method = {"knn": store.knn, "bm25": store.bm25, "hybrid": store.hybrid}[args.mode]
    for hit in method(args.query, args.k, filter=dict(args.filter) or None):
        print(json.dumps({"id": hit.id, "score": round(hit.score, 6), "source": hit.source}, ensure_ascii=False))
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    print(_store(args).count(dict(args.filter) or None))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    if bool(args.ids) == bool(args.filter):
        raise ConfigError("sbert es delete: give --ids or --filter (one of them)")
    store = _store(args)
    deleted = store.delete(args.ids) if args.ids else store.delete_by_filter(dict(args.filter))
    print(f"deleted {deleted} document(s) from {args.index!r}", file=sys.stderr)
    return 0
