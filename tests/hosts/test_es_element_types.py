"""byte and bit dense_vector indices: what is stored, what a query sends, and (against the real server)
that the float rescoring of the quantized candidates gives back the float order and scores."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from support import ES_SENTENCES

from sbert_plugins import ConfigError, quantize_embeddings
from sbert_plugins.elasticsearch import ElasticsearchStore, index_body, knn_body
from sbert_plugins.elasticsearch._vectors import VectorForm, byte_scale, check_element_type, float_scores

CONTRACT = {"model": "m", "fingerprint": "abc", "dims": 16, "pooling": "mean", "normalize": True}
SENTENCES = [*ES_SENTENCES, "Stocks dropped steeply this morning.", "A child is reading a book."]


def test_bit_vectors_are_sentence_transformers_ubinary_as_hex():
    x = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)
    form = VectorForm("bit")
    packed = quantize_embeddings(x, precision="ubinary")
    assert [form.quantize(v) for v in x] == [row.tobytes().hex() for row in packed]


def test_byte_vectors_keep_one_scale_clipped_to_int8():
    calibration = np.array([[0.5, -0.25], [0.1, 0.2]], dtype=np.float32)
    scale = byte_scale(calibration)
    assert scale == pytest.approx(254.0)
    form = VectorForm("byte", scale)
    assert form.quantize(np.array([0.5, -0.25, 0.001, -0.9], dtype=np.float32)) == [127, -64, 0, -128]
    for bad in (np.zeros((0, 2)), np.zeros((2, 2)), [[np.nan, 1.0]]):
        with pytest.raises(ConfigError, match="calibration"):
            byte_scale(bad)


def test_element_type_checks_name_the_value():
    with pytest.raises(ConfigError, match="element_type='half'"):
        check_element_type("half", 16, "cosine")
    with pytest.raises(ConfigError, match="dims divisible by 8; the encoder has 12"):
        check_element_type("bit", 12, "cosine")
    with pytest.raises(ConfigError, match="cosine or dot_product"):
        check_element_type("byte", 16, "max_inner_product")


def test_mapping_and_query_bodies_of_a_rescored_bit_index():
    form = VectorForm("bit", None, "embedding_float", "dot_product", 3.0)
    body = index_body(CONTRACT, similarity="l2_norm", options=None, form=form)
    properties = body["mappings"]["properties"]
    assert properties["embedding"]["element_type"] == "bit" and properties["embedding"]["similarity"] == "l2_norm"
    float_copy = {"type": "dense_vector", "dims": 16, "index": True, "similarity": "dot_product"}
    assert properties["embedding_float"] == {**float_copy, "index_options": {"type": "flat"}}
    assert body["mappings"]["_meta"]["sbert_plugins"]["vector_form"]["rescore_field"] == "embedding_float"
    query = [0.25] * 16
    search = knn_body(form.quantize(np.asarray(query)), k=5, window=form.window(5))
    assert search["knn"]["query_vector"] == "ffff" and search["knn"]["k"] == 15 and search["size"] == 15
    with pytest.raises(ConfigError, match=r"oversample=0\.5"):
        form.window(5, 0.5)
    assert VectorForm("float").window(5) is None and VectorForm("bit").window(5) is None  # nothing to rescore


def test_float_scores_are_the_servers_float_scores():
    q = np.array([0.6, 0.8])
    v = np.array([[0.6, 0.8], [-0.6, -0.8], [0.0, 2.0]])
    np.testing.assert_allclose(float_scores("cosine", q, v), [1.0, 0.0, 0.9])
    np.testing.assert_allclose(float_scores("dot_product", q, v[:2]), [1.0, 0.0])
    np.testing.assert_allclose(float_scores("max_inner_product", q, v), [2.0, 0.5, 2.6])
    np.testing.assert_allclose(float_scores("l2_norm", q, v[:2]), [1.0, 1 / 5])


@pytest.mark.elasticsearch
@pytest.mark.parametrize("element_type", ["byte", "bit"])
def test_quantized_index_with_float_rescoring_returns_the_float_answer(es_client, index_name, minilm, element_type):
    """With every document in the rescoring window, order and scores are those of an exact float index."""
    docs = [{"id": f"d{i}", "text": s} for i, s in enumerate(SENTENCES)]
    exact = ElasticsearchStore(f"{index_name}-flat", minilm, client=es_client)
    exact.create_index(index_type="flat")
    exact.ingest(docs)
    store = ElasticsearchStore(index_name, minilm, client=es_client)
    store.create_index(element_type=element_type, calibration=SENTENCES if element_type == "byte" else None)
    report = store.ingest(docs)
    assert report.ok and report.indexed == len(SENTENCES)
    field = es_client.indices.get_mapping(index=index_name).body[index_name]["mappings"]["properties"]
    assert field["embedding"]["element_type"] == element_type
    assert field["embedding_float"]["index_options"]["type"] == "flat"  # read back for rescoring, never searched
    for query in ("Someone is playing an instrument.", "The market crashed.", "Animals outside."):
        want = exact.knn(query, k=4)
        got = store.knn(query, k=4, oversample=3.0)  # a window of 12: every document is rescored
        assert [h.id for h in got] == [h.id for h in want]
        np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-5)
        assert "embedding" not in got[0].source and "embedding_float" not in got[0].source
    assert set(store.get(["d0"])["d0"]) == {"text"}
    assert store.update_metadata(["d0", "d1"], {"group": "music"}) == 2  # a partial update keeps the float copy
    after = store.knn("Someone is playing an instrument.", k=2, oversample=6.0)
    assert {h.id for h in after} == {"d0", "d1"} and after[0].source["group"] == "music"
    with pytest.raises(ConfigError, match="min_similarity"):
        store.knn("x", k=2, min_similarity=0.5)


@pytest.mark.elasticsearch
def test_bit_index_without_float_copy_ranks_by_hamming_distance(es_client, index_name, minilm):
    store = ElasticsearchStore(index_name, minilm, client=es_client)
    store.create_index(element_type="bit", keep_float=False, index_type="flat")
    store.ingest([{"id": f"d{i}", "text": s} for i, s in enumerate(SENTENCES)])
    properties = es_client.indices.get_mapping(index=index_name).body[index_name]["mappings"]["properties"]
    assert "embedding_float" not in properties
    query = "Someone is playing an instrument."
    bits = np.unpackbits(quantize_embeddings(minilm.encode(SENTENCES), precision="ubinary"), axis=1)
    q = np.unpackbits(quantize_embeddings(minilm.encode([query]), precision="ubinary"), axis=1)[0]
    hamming = (bits != q).sum(axis=1)
    hits = store.knn(query, k=3)
    assert [hamming[int(h.id[1:])] for h in hits] == sorted(hamming)[:3]
    with pytest.raises(ConfigError, match="oversample= applies"):
        store.knn(query, k=3, oversample=2.0)


@pytest.mark.elasticsearch
def test_byte_index_needs_calibration_before_anything_is_created(es_client, index_name, minilm):
    with pytest.raises(ConfigError, match="calibration="):
        ElasticsearchStore(index_name, minilm, client=es_client).create_index(element_type="byte")
    assert not es_client.indices.exists(index=index_name)


@pytest.mark.elasticsearch
def test_knn_vector_takes_a_precomputed_query_and_checks_it(es_client, index_name, minilm):
    store = ElasticsearchStore(index_name, minilm, client=es_client)
    store.create_index(element_type="bit")
    store.ingest([{"id": f"d{i}", "text": s} for i, s in enumerate(SENTENCES)])
    query = "Someone is playing an instrument."
    by_text = store.knn(query, k=3)
    by_vector = store.knn_vector(minilm.encode(query), k=3)
    assert [(h.id, round(h.score, 6)) for h in by_vector] == [(h.id, round(h.score, 6)) for h in by_text]
    from sbert_plugins import InputError

    with pytest.raises(InputError, match=r"vector must be 384 finite numbers, got shape \(3,\)"):
        store.knn_vector([0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="finite"):
        store.knn_vector([float("nan")] * 384)


def test_a_tampered_vector_form_and_large_windows_are_handled():
    from sbert_plugins import EmbeddingContractError

    for bad in ({"element_type": "half"}, {"element_type": "byte", "scale": None}, {"oversample": "x"}, "byte"):
        with pytest.raises(EmbeddingContractError, match="vector_form is unusable"):
            VectorForm.from_contract({"vector_form": bad})
    assert VectorForm.from_contract({}) == VectorForm()  # indices from before: float
    form = VectorForm("bit", None, "embedding_float", "cosine", 4.0)
    assert form.window(3000) == 10_000 and form.window(20_000) == 20_000  # capped, never below k
