"""Hook specifications: what a plugin may contribute.

A plugin is any module or object with functions named like these hooks and
decorated with :data:`sbert_plugins.hookimpl`. Register it through the
``sbert_plugins`` entry-point group (or :func:`sbert_plugins.register_plugin`);
every host (spaCy, scikit-learn, Elasticsearch, Spark, the CLI) then sees it.
The package's own defaults are plugins too (entry points ``builtin`` and
``elasticsearch``), marked ``trylast`` so any third party can shadow them.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT = "sbert_plugins"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def sbert_resolve_model(name: str) -> str | None:
    """Return a local folder holding model ``name``, or None if unknown.

    Called for names, never for paths (see docs/plugins.md for the rule). The
    first answer wins; plugins registered later are asked first.
    """


@hookspec
def sbert_pooling_strategies() -> dict[str, Callable]:  # type: ignore[empty-body]
    """Return ``{name: fn(token_embeddings, attention_mask) -> Tensor}``.

    ``token_embeddings`` is ``(batch, tokens, dim)`` float32, ``attention_mask`` is
    ``(batch, tokens)`` with 1 for real tokens; return finite ``(batch, dim)``.
    """


@hookspec
def sbert_chunkers() -> dict[str, Callable]:  # type: ignore[empty-body]
    """Return ``{name: fn(text, token_offsets, max_tokens) -> list[str]}``.

    ``token_offsets`` are ``(start, end)`` character offsets of the text's tokens
    (without special tokens); return non-blank chunks of at most ``max_tokens`` tokens.
    """


@hookspec
def sbert_vector_stores() -> dict[str, Callable]:  # type: ignore[empty-body]
    """Return ``{name: factory(encoder, **options) -> VectorStore}``."""


# the hook names, for code that asks the manager for one hook's contributions
RESOLVE_MODEL = sbert_resolve_model.__name__
POOLING_STRATEGIES = sbert_pooling_strategies.__name__
CHUNKERS = sbert_chunkers.__name__
VECTOR_STORES = sbert_vector_stores.__name__
