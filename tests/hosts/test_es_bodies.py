"""Pure request bodies and checks: no server needed."""

from __future__ import annotations

import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from sbert_plugins import ConfigError, VectorStoreError
from sbert_plugins.elasticsearch import (
    check_similarity,
    check_versions,
    contract_mismatch,
    index_body,
    index_options,
    knn_body,
    rrf_fuse,
)

CONTRACT = {"model": "m", "fingerprint": "abc", "dims": 384, "pooling": "mean", "normalize": True}


def test_index_body_carries_contract_and_options():
    body = index_body(CONTRACT, similarity="dot_product", options=index_options("int8_hnsw", m=24, ef_construction=200))
    field = body["mappings"]["properties"]["embedding"]
    assert field == {
        "type": "dense_vector",
        "dims": 384,
        "index": True,
        "similarity": "dot_product",
        "index_options": {"type": "int8_hnsw", "m": 24, "ef_construction": 200},
    }
    assert body["mappings"]["_meta"]["sbert_plugins"]["fingerprint"] == "abc"


def test_index_options_validation():
    assert index_options("flat") == {"type": "flat"}
    assert index_options("auto") is None  # the server's default
    assert index_options("bbq_hnsw", oversample=3) == {"type": "bbq_hnsw", "rescore_vector": {"oversample": 3.0}}
    with pytest.raises(ConfigError, match="quantized"):
        index_options("hnsw", oversample=3)
    with pytest.raises(ConfigError, match="HNSW"):
        index_options("flat", m=16)
    with pytest.raises(ConfigError, match="'ivf'"):
        index_options("ivf")


def test_dot_product_needs_unit_vectors():
    assert check_similarity("dot_product", True) == "dot_product"
    with pytest.raises(ConfigError, match="requires unit-length vectors"):
        check_similarity("dot_product", False)


def test_knn_body_defaults_and_filters():
    body = knn_body([0.1, 0.2], k=5, filters=[{"term": {"lang": "en"}}], min_similarity=0.5)
    assert body["knn"]["num_candidates"] == 100 and body["knn"]["filter"] == [{"term": {"lang": "en"}}]
    assert body["knn"]["similarity"] == 0.5 and body["size"] == 5
    with pytest.raises(ConfigError, match="num_candidates=3 must be >= k=5"):
        knn_body([0.1], k=5, num_candidates=3)


def test_rrf_fusion():
    fused = rrf_fuse([["a", "b", "c"], ["b", "d"]], k=3, rank_constant=60)
    assert [doc for doc, _ in fused] == ["b", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_contract_mismatch_lists_fields():
    problems = contract_mismatch(CONTRACT, {**CONTRACT, "dims": 32, "fingerprint": "zzz"})
    assert any("dims: index has 384, encoder has 32" in p for p in problems) and len(problems) == 2


def test_version_mismatch_says_what_to_install():
    check_versions("8.19.3", "8.19.7")
    with pytest.raises(VectorStoreError, match=r"pip install 'elasticsearch>=9,<10'"):
        check_versions("8.19.3", "9.1.0")
    with pytest.raises(VectorStoreError, match=r"pip install 'elasticsearch>=8,<9'"):
        check_versions("9.0.1", "8.19.7")


def test_the_index_similarity_follows_the_models_similarity_fn_name():
    from sbert_plugins.elasticsearch._bodies import default_similarity

    assert default_similarity("cosine", True) == "dot_product" and default_similarity("cosine", False) == "cosine"
    assert default_similarity("dot", True) == "dot_product" and default_similarity("dot", False) == "max_inner_product"
    assert default_similarity("euclidean", False) == "l2_norm"
    with pytest.raises(ConfigError, match="manhattan similarity, which dense_vector has no form of"):
        default_similarity("manhattan", False)
