"""Documents for an ingest: parsed one by one, each refusal naming the document and the reason."""

from __future__ import annotations

import pytest

from sbert_plugins import Document, InputError, content_id, parse_document


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "d1", "text": "a dog", "year": 2020},
        {"_id": "d1", "text": "a dog", "year": 2020},
        ("d1", "a dog", {"year": 2020}),
        Document("d1", "a dog", {"year": 2020}),
    ],
)
def test_every_accepted_shape_gives_the_same_document(raw):
    assert parse_document(raw) == Document("d1", "a dog", {"year": 2020})


def test_ids_are_strings_and_text_field_is_configurable():
    assert parse_document({"id": 7, "body": "x"}, text_field="body") == Document("7", "x", {})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"text": "no id"}, "has no id"),
        ({"id": "", "text": "x"}, "has an empty id"),
        ({"id": "é" * 300, "text": "x"}, "id of 600 bytes"),
        ({"id": "d1"}, "has no usable 'text'"),
        ({"id": "d1", "text": "   "}, "has no usable 'text'"),
        ({"id": "d1", "text": 42}, "has no usable 'text'"),
        ({"id": "d1", "text": "a \ud800 b"}, "surrogate"),
        ("just a string", "a document must be a dict"),
    ],
)
def test_bad_documents_are_refused_with_the_reason(raw, message):
    with pytest.raises(InputError, match=message):
        parse_document(raw)


def test_unicode_errors_replace_and_allow_empty():
    assert parse_document({"id": "d", "text": "a \ud800 b"}, unicode_errors="replace").text == "a \ufffd b"
    assert parse_document({"id": "d", "text": ""}, allow_empty=True).text == ""


def test_content_ids_are_deterministic_and_namespaced():
    assert content_id("a dog") == content_id("a dog") != content_id("a dog ")
    assert content_id("a dog", "tenant-a") != content_id("a dog", "tenant-b")
    assert len(content_id("x")) == 40
