"""Hook specifications: what a plugin may contribute.

A plugin is any module or object with functions named like these hooks and
decorated with :data:`sbert_plugins.hookimpl`. Register it through the
``sbert_plugins`` entry-point group (or :func:`sbert_plugins.register_plugin`);
every host — spaCy, scikit-learn, Elasticsearch, the CLI — then sees it.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import pluggy

PROJECT = "sbert_plugins"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def sbert_resolve_model(name: str) -> Optional[str]:
    """Return a local folder holding model ``name``, or None if unknown.

    Called only for names that are not existing paths. Plugins registered later
    are asked first, so a third party can shadow a built-in alias.
    """


@hookspec
def sbert_pooling_strategies() -> Dict[str, Callable]:
    """Return ``{name: fn(token_embeddings, attention_mask) -> Tensor}``.

    ``token_embeddings`` is ``(batch, tokens, dim)``, ``attention_mask`` is
    ``(batch, tokens)`` with 1 for real tokens; return ``(batch, dim)``.
    """


@hookspec
def sbert_chunkers() -> Dict[str, Callable]:
    """Return ``{name: fn(text, token_offsets, max_tokens) -> list[str]}``.

    ``token_offsets`` are ``(start, end)`` character offsets of the text's
    tokens (without special tokens); each chunk must fit ``max_tokens`` tokens.
    """


@hookspec
def sbert_vector_stores() -> Dict[str, Callable]:
    """Return ``{name: factory(encoder, **options) -> VectorStore}``."""
