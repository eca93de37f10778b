"""The Elasticsearch example under examples/ against the real server."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytest.importorskip("elasticsearch")
from support import es_url

pytestmark = [pytest.mark.elasticsearch, pytest.mark.quality]


def test_elasticsearch_example(minilm):
    run = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "elasticsearch_search.py"))["run"]
    out = run(es_url(), alias="sbert-example-test")
    assert out["report"].startswith("10 indexed, 0 failed")
    assert {i for i, _, _ in out["knn"]} == {"s0", "s1"}
    assert all("onion" in t for t in out["filtered"])
    assert "The new film is great." in out["hybrid"]
    assert set(out["after_swap"]) == {"s0", "s1"}
