"""Input checks shared by every host: each error names the bad value, its index and the fix."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from .errors import InputError

_PREVIEW = 60
UNICODE_ERRORS = ("strict", "replace")
# characters that carry no text: whitespace, controls, zero-width/format characters (U+200B, U+FEFF, ...)
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def show(value: Any) -> str:
    """A short repr for error messages."""
    text = repr(value)
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...'"


def is_blank(text: str) -> bool:
    """True for texts with nothing to embed: empty, whitespace, control or zero-width characters only."""
    stripped = text.strip()
    if not stripped:
        return True
    if unicodedata.category(stripped[0]) not in _INVISIBLE:  # fast path for ordinary text
        return False
    return all(unicodedata.category(c) in _INVISIBLE for c in stripped)


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def replace_surrogates(text: str) -> str:
    """Lone surrogates become U+FFFD (valid characters are untouched)."""
    # UTF-16 round trip: one U+FFFD per lone surrogate (UTF-8 would give three)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def text_problem(text: Any, *, allow_empty: bool = False, unicode_errors: str = "strict") -> str | None:
    """Why ``text`` cannot be embedded, or None if it can (the message ends with the fix)."""
    if not isinstance(text, str):
        return (
            f"is {show(text)} of type {type(text).__name__}, not str; convert it with str() or drop the row "
            "(None/NaN usually means missing data)"
        )
    if unicode_errors == "strict" and has_lone_surrogate(text):
        return (
            f"contains a lone surrogate ({show(text)}), which is not valid Unicode; fix the decoding upstream "
            "or pass unicode_errors='replace' to replace it with U+FFFD"
        )
    if not allow_empty and is_blank(text):
        return (
            f"is empty or has only whitespace/control/zero-width characters ({show(text)}); drop it, or pass "
            "allow_empty=True to embed it as the model's empty-input vector"
        )
    return None


def _items(texts: Any, name: str) -> list[Any]:
    """The items of a container of texts; refuses containers whose iteration would give the wrong thing."""
    if texts is None:
        raise InputError(f"{name} is None; pass a string or a list of strings")
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray)):
        raise InputError(f"{name} is bytes ({show(texts)}); decode it first, e.g. data.decode('utf-8')")
    if isinstance(texts, Mapping):
        raise InputError(
            f"{name} is a {type(texts).__name__}, whose iteration gives its keys; pass list(d.values()) "
            "(or list(d) if the keys are the texts)"
        )
    if hasattr(texts, "columns") and hasattr(texts, "shape"):
        return one_column(texts, name)
    shape = getattr(texts, "shape", None)
    if shape is not None and len(shape) == 2 and shape[1] == 1:
        texts = texts[:, 0]
    elif shape is not None and len(shape) != 1:
        raise InputError(f"{name} must be 1-D (or a single column), got an array of shape {tuple(shape)}")
    try:
        return list(texts)
    except TypeError:
        raise InputError(
            f"{name} must be a string or an iterable of strings, got {type(texts).__name__} ({show(texts)})"
        ) from None


def one_column(frame: Any, name: str = "texts") -> list[Any]:
    """The values of a one-column pandas/polars DataFrame, or a clear error naming its columns."""
    columns = list(frame.columns)
    if len(columns) != 1:
        raise InputError(
            f"{name} is a DataFrame with {len(columns)} columns {columns[:5]}; pass one text column, e.g. "
            f"df[{(columns or ['text'])[0]!r}], or use ColumnTransformer([('sbert', SBERTTransformer(), 'text')])"
        )
    column = frame[columns[0]]
    return list(column.to_list() if hasattr(column, "to_list") else column.tolist())


def validate_texts(
    texts: Any, *, allow_empty: bool = False, name: str = "texts", unicode_errors: str = "strict"
) -> list[str]:
    """Return ``texts`` as a list of str, or raise :class:`InputError` naming the first bad item.

    A single string is one text. Lists, tuples, generators, 1-D numpy arrays of
    str, pandas/polars Series and one-column DataFrames are accepted; dicts and
    multi-column frames are refused (iterating them gives keys / column names).
    ``unicode_errors='replace'`` turns lone surrogates into U+FFFD instead of refusing them.
    """
    if unicode_errors not in UNICODE_ERRORS:
        raise InputError(f"unicode_errors={unicode_errors!r}; choose one of {UNICODE_ERRORS}")
    items = _items(texts, name)
    out: list[str] = []
    for i, text in enumerate(items):
        problem = text_problem(text, allow_empty=allow_empty, unicode_errors=unicode_errors)
        if problem is not None:
            raise InputError(f"{name}[{i}] {problem}", indices=[i], reasons=[problem])
        out.append(replace_surrogates(text) if unicode_errors == "replace" else str(text))
    return out
