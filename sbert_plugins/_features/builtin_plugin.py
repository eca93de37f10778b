"""The built-in plugin: packaged models, the pooling strategies, chunkers and the in-memory store.

It is registered through the same ``sbert_plugins`` entry-point group and the same
hooks as third-party plugins (so the hooks are exercised by every run), and its
implementations are ``trylast``: any plugin can shadow a built-in name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._base.chunkers import sentence_chunks, token_window_chunks
from ..hookspecs import hookimpl


@hookimpl(trylast=True)
def sbert_resolve_model(name: str) -> str | None:
    from .._loading.packaged import packaged_folder

    folder = packaged_folder(name)
    return None if folder is None else str(folder)


@hookimpl(trylast=True)
def sbert_pooling_strategies() -> dict[str, Callable[..., Any]]:
    from ..models import BUILTIN_POOLING

    return dict(BUILTIN_POOLING)


@hookimpl(trylast=True)
def sbert_chunkers() -> dict[str, Callable[..., Any]]:
    return {"tokens": token_window_chunks, "sentences": sentence_chunks}


@hookimpl(trylast=True)
def sbert_vector_stores() -> dict[str, Callable[..., Any]]:
    from .memory_store import InMemoryStore

    return {"memory": InMemoryStore}
