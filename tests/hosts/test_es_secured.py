"""A secured Elasticsearch node (xpack security, HTTPS with a CA made by es_server.sh, file-realm users with
roles, an API key): the store works with credentials, and every refusal is one clear error naming the
cause and the fix, with nothing written without a report."""

from __future__ import annotations

import os
import uuid

import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")

from sbert_plugins import StoreAuthError, StoreUnavailableError
from sbert_plugins.elasticsearch import ElasticsearchStore, connect

pytestmark = [pytest.mark.elasticsearch, pytest.mark.secured]
DOCS = [{"id": f"d{i}", "text": t} for i, t in enumerate(["A man plays guitar.", "The stock market fell.", "A cat"])]


@pytest.fixture(scope="module")
def secure():
    url = os.environ.get("SBERT_ES_SECURE_URL")
    if not url:
        pytest.skip('no secured node: run `eval "$(bash scripts/es_server.sh secure-start)"`')
    env = {k: os.environ[f"SBERT_ES_{k.upper()}"] for k in ("ca_certs", "admin_user", "reader_user", "writer_user")}
    return {"url": url, "password": os.environ["SBERT_ES_SECURE_PASSWORD"], **env}


def login(secure, user: str, **extra):
    return connect(secure["url"], basic_auth=(secure[user], secure["password"]), ca_certs=secure["ca_certs"], **extra)


@pytest.fixture()
def index(secure):
    name = f"sbert-secure-{uuid.uuid4().hex[:8]}"  # inside the limited roles' pattern sbert-*
    yield name
    login(secure, "admin_user").indices.delete(index=name, ignore_unavailable=True)


def test_writer_over_https_with_credentials(secure, index, fake_encoder):
    store = ElasticsearchStore(
        index,
        fake_encoder,
        url=secure["url"],
        basic_auth=(secure["writer_user"], secure["password"]),
        ca_certs=secure["ca_certs"],
    )
    store.create_index()
    assert store.ingest(DOCS).ok and store.count() == 3
    assert store.knn("A man plays guitar.", k=1)[0].id == "d0"
    assert secure["password"] not in repr(store) and secure["password"] not in str(vars(store))


def test_api_key(secure, index, fake_encoder):
    admin = login(secure, "admin_user")
    key = admin.security.create_api_key(name=f"sbert-test-{index}", expiration="1h").body["encoded"]
    store = ElasticsearchStore(index, fake_encoder, url=secure["url"], api_key=key, ca_certs=secure["ca_certs"])
    store.create_index()
    assert store.ingest(DOCS).indexed == 3


def test_wrong_password_and_missing_credentials(secure):
    with pytest.raises(StoreAuthError, match=r"refused the credentials \(401.*basic_auth=\(user, password\)"):
        connect(secure["url"], basic_auth=(secure["writer_user"], "wrong-password"), ca_certs=secure["ca_certs"])
    with pytest.raises(StoreAuthError, match=r"refused the credentials \(401.*security is enabled"):
        connect(secure["url"], ca_certs=secure["ca_certs"])


def test_untrusted_certificate_and_plain_http(secure):
    with pytest.raises(StoreAuthError, match=r"certificate of .* is not trusted.*ca_certs="):
        connect(secure["url"], basic_auth=(secure["writer_user"], secure["password"]))
    with pytest.raises(StoreUnavailableError, match="cannot reach Elasticsearch"):
        connect(
            secure["url"].replace("https://", "http://"),
            basic_auth=(secure["writer_user"], secure["password"]),
            max_retries=0,
        )


def test_a_role_without_write_permission(secure, index, fake_encoder):
    writer = ElasticsearchStore(index, fake_encoder, client=login(secure, "writer_user"))
    writer.create_index()
    reader = ElasticsearchStore(index, fake_encoder, client=login(secure, "reader_user"))
    with pytest.raises(StoreAuthError, match=r"not permitted for this user.*403"):
        ElasticsearchStore(f"{index}-other", fake_encoder, client=reader.client).create_index()
    with pytest.raises(StoreAuthError, match=r"refused the writes.*(security_exception|unauthorized)") as info:
        reader.ingest(DOCS * 40, chunk_size=10)
    report = info.value.report
    assert report.indexed == 0 and report.received == len(DOCS) * 40 == len(report.failures)
    assert {f.kind for f in report.failures} == {"rejected", "not_sent"}
    assert writer.count() == 0  # nothing written, and the report says so
    assert reader.knn("a man", k=1) == []  # reading is allowed
