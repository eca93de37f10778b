"""The CLI's shared pieces: encode options as flags (from the options vocabulary), input and output checks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from .._base.errors import ConfigError
from .._base.options import OPTIONS, EncodeOptions, check_pooling


def shared_check(name: str, convert: Callable[[str], Any] = str) -> Callable[[str], Any]:
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
    declared = {f.name: str(f.type) for f in fields(EncodeOptions)}
    for name, option in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        default = defaults.get(name, option.default)
        if declared[name].startswith("bool"):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=option.help)
        elif declared[name].startswith("int"):
            group.add_argument(flag, type=shared_check(name, int), default=default, help=option.help)
        elif name == "pooling":
            group.add_argument(flag, type=_pooling, default=default, help=option.help + " (a,b concatenates)")
        else:
            group.add_argument(
                flag, type=shared_check(name), default=default, help=f"{option.help} (default: {default})"
            )


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``, for the commands that read evaluation data."""
    parser.add_argument("--data-dir", default=None, help="evaluation data folder (default: $SBERT_DATA_DIR)")


def encode_options(args: argparse.Namespace) -> EncodeOptions:
    return EncodeOptions(**{name: getattr(args, name) for name in OPTIONS})


def make_encoder(args: argparse.Namespace) -> Any:
    from .._encoding.encoder import SentenceEncoder

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
                f"input file {path!r} is not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
                "convert it, e.g. `iconv -f latin1 -t utf-8`"
            ) from None
    lines = text.splitlines()
    kept = [line for line in lines if line.strip()]
    if not kept:  # an empty result would look like success
        where = "standard input" if path == "-" else f"input file {path!r}"
        raise ConfigError(f"{where} has no non-blank lines ({len(lines)} lines read); give one text per line")
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
