"""Connecting to Elasticsearch (8.x or 9.x, plain or secured) and turning its errors into ours.

Every call the store makes goes through :func:`es_errors`, so a transport failure,
a refused credential or certificate, or a missing permission reaches the user as an
``SbertPluginsError`` naming the cause and the fix, never as a raw client exception.
Credentials are handed to the client and never logged or shown in a repr.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sbert_plugins import StoreAuthError, StoreUnavailableError, VectorStoreError

URL_ENV = "SBERT_ES_URL"
DEFAULT_URL = "http://127.0.0.1:9200"
START_HINT = "start a server (docs/elasticsearch.md, 'The servers', or Elastic's install guide) or pass the right URL"
_PLAIN_JSON = {"accept": "application/json", "content-type": "application/json"}


def default_url() -> str:
    """``$SBERT_ES_URL``, else http://127.0.0.1:9200."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def client_major() -> int:
    import elasticsearch

    return int(elasticsearch.__versionstr__.split(".")[0])


def install_hint(server_major: int) -> str:
    return f"pip install 'elasticsearch>={server_major},<{server_major + 1}'"


def check_versions(client_version: str, server_version: str) -> None:
    """Client and server majors must match; say exactly what to install if not."""
    client, server = int(client_version.split(".")[0]), int(server_version.split(".")[0])
    if client != server:
        raise VectorStoreError(
            f"Elasticsearch server is {server_version} but the Python client is {client_version}; install the "
            f"matching client: {install_hint(server)}"
        )


def _api_reason(exc: Any) -> str:
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"
    return str(error or getattr(exc, "message", "") or exc)[:300]


def blocked_message(what: str, where: str, reason: str) -> str | None:
    """A 403 that is an index or cluster *block* (not a missing privilege), said as such, with the fix."""
    if "cluster_block_exception" not in reason and "blocked by" not in reason:
        return None
    return (
        f"{what}: {where} refuses writes because of a block, not the user's privileges ({reason[:300]}). "
        "An index write block (index.blocks.write / read_only) is lifted with PUT <index>/_settings "
        '{"index.blocks.write": null, "index.blocks.read_only": null}; read_only_allow_delete is set by the '
        "disk flood-stage watermark: free disk space first"
    )


@contextmanager
def es_errors(what: str, where: str) -> Iterator[None]:
    """Translate client exceptions raised by ``what`` against ``where`` into sbert-plugins errors."""
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout, TlsError, TransportError
    from elasticsearch import ApiError, AuthenticationException, AuthorizationException

    try:
        yield
    except TlsError as exc:
        raise StoreAuthError(
            f"{what}: the TLS certificate of {where} is not trusted ({str(exc)[:200]}); pass "
            "ca_certs='path/to/ca.crt' (the cluster's CA), or verify_certs=False for a throw-away test cluster only"
        ) from exc
    except ConnectionTimeout as exc:
        raise StoreUnavailableError(
            f"{what}: {where} did not answer within the request timeout (stalled, paused or overloaded); "
            "check the cluster's health, or raise request_timeout"
        ) from exc
    except (TransportConnectionError, TransportError) as exc:
        raise StoreUnavailableError(f"{what}: cannot reach Elasticsearch at {where}: {exc}; {START_HINT}") from exc
    except AuthenticationException as exc:
        raise StoreAuthError(
            f"{what}: {where} refused the credentials (401: {_api_reason(exc)}); security is enabled there: "
            "pass api_key=... or basic_auth=(user, password) that the cluster accepts"
        ) from exc
    except AuthorizationException as exc:
        blocked = blocked_message(what, where, _api_reason(exc))
        if blocked:
            raise VectorStoreError(blocked) from exc
        raise StoreAuthError(
            f"{what}: not permitted for this user at {where} (403: {_api_reason(exc)}); grant the user's role the "
            "needed index privileges (e.g. 'write' and 'create_index' for ingest, 'read' for search)"
        ) from exc
    except ApiError as exc:
        raise VectorStoreError(f"{what}: Elasticsearch answered {exc.meta.status}: {_api_reason(exc)}") from exc


def server_version(client: Any, where: str) -> str:
    """The server's version from ``/_nodes`` (the minimal distribution has no ``GET /``).

    Asked with plain JSON headers, so a client of the other major still learns the
    server's version and can say which client to install.
    """
    with es_errors("asking the server's version", where):
        nodes = client.options(headers=_PLAIN_JSON).nodes.info(
            node_id="_local", metric="_none", filter_path="nodes.*.version"
        )
    versions = [n["version"] for n in nodes.body.get("nodes", {}).values()]
    if not versions:
        raise VectorStoreError(f"{where} did not report a version from /_nodes: is it an Elasticsearch server?")
    return str(versions[0])


def connect(
    url: str | list[str] | None = None,
    *,
    api_key: str | tuple[str, str] | None = None,
    basic_auth: tuple[str, str] | None = None,
    ca_certs: str | os.PathLike[str] | None = None,
    verify_certs: bool | None = None,
    request_timeout: float = 30,
    **client_options: Any,
) -> Any:
    """An ``Elasticsearch`` client that has answered once, whose major matches the server's.

    ``url`` defaults to ``$SBERT_ES_URL`` or http://127.0.0.1:9200; ``api_key`` /
    ``basic_auth`` / ``ca_certs`` / ``verify_certs`` go to the client (never logged).
    """
    import elasticsearch
    from elasticsearch import Elasticsearch

    where = url or default_url()
    security = {"api_key": api_key, "basic_auth": basic_auth, "verify_certs": verify_certs}
    options: dict[str, Any] = {k: v for k, v in security.items() if v is not None}
    if ca_certs is not None:
        options["ca_certs"] = os.fspath(ca_certs)
    client = Elasticsearch(where, request_timeout=request_timeout, **options, **client_options)
    check_versions(elasticsearch.__versionstr__, server_version(client, str(where)))
    return client


def describe(client: Any) -> str:
    """Where a client points, for messages (no credentials)."""
    nodes = getattr(getattr(client, "transport", None), "node_pool", None)
    try:
        return ", ".join(str(n.base_url) for n in nodes.all())  # type: ignore[union-attr]
    except Exception:  # any client-internal change: messages just get less specific
        return "the Elasticsearch cluster"
