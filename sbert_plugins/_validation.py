"""Input checks shared by every host: each error names the bad value and the fix."""
from __future__ import annotations

from typing import Any, List

from ._errors import InputError

_PREVIEW = 60


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...'"


def validate_texts(texts: Any, *, allow_empty: bool = False, name: str = "texts") -> List[str]:
    """Return ``texts`` as a list of str, or raise :class:`InputError` naming the culprit.

    A single string is one text. Any iterable of ``str`` (list, tuple, numpy array
    of str, pandas Series, generator) is accepted. Empty or whitespace-only texts
    are refused unless ``allow_empty`` (then they embed as the model's empty input).
    """
    if texts is None:
        raise InputError(f"{name} is None; pass a string or a list of strings")
    if isinstance(texts, str):
        items: List[Any] = [texts]
    elif isinstance(texts, (bytes, bytearray)):
        raise InputError(f"{name} is bytes ({_show(texts)}); decode it first, e.g. data.decode('utf-8')")
    else:
        try:
            items = list(texts)
        except TypeError:
            raise InputError(f"{name} must be a string or an iterable of strings, "
                             f"got {type(texts).__name__} ({_show(texts)})") from None
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise InputError(f"{name}[{i}] is {_show(text)} of type {type(text).__name__}, not str; "
                             "convert it with str() or drop the row (None/NaN usually means missing data)")
        if not allow_empty and not text.strip():
            raise InputError(f"{name}[{i}] is empty or whitespace only ({_show(text)}); drop it, or pass "
                             "allow_empty=True to embed it as the model's empty-input vector")
    return [str(t) for t in items]
