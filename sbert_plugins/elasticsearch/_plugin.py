"""The Elasticsearch host's plugin: the ``elasticsearch`` vector store, for ``sbert plugins`` and
code that picks a store by name. Registered through this host's own entry point; importing it
needs no client (the factory imports the store when called)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sbert_plugins import Encoder, hookimpl


def elasticsearch_store(encoder: Encoder, **options: Any) -> Any:
    """``ElasticsearchStore(index=..., encoder=encoder, **options)``."""
    from sbert_plugins.elasticsearch import ElasticsearchStore  # the extra's check, then the store

    return ElasticsearchStore(encoder=encoder, **options)


@hookimpl(trylast=True)
def sbert_vector_stores() -> dict[str, Callable[..., Any]]:
    return {"elasticsearch": elasticsearch_store}
