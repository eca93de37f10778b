"""The spaCy `sbert` component, on the tiny model (MiniLM only for the example)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

spacy = pytest.importorskip("spacy", reason="spaCy extra not installed")
from spacy.tokens import Doc, DocBin  # noqa: E402

from sbert_plugins import ConfigError, LongTextWarning  # noqa: E402

TEXT = "the man plays guitar. the cat is happy! a dog runs in the park."


@pytest.fixture()
def nlp(tiny_model_dir):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    # unit vectors, so that the similarity test can compare with a dot product (the shared default keeps
    # the model's own normalisation, and the tiny model has none)
    nlp.add_pipe("sbert", config={"model": str(tiny_model_dir), "spans": ["doc", "sents", "ents"], "normalize": True})
    return nlp


def test_factory_found_through_entry_point_without_import(tiny_model_dir):
    code = (
        "import sys, spacy; nlp = spacy.blank('en'); "
        f"nlp.add_pipe('sbert', config={{'model': {str(tiny_model_dir)!r}}}); "
        "print(nlp('a dog').vector.shape)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(32,)"


def test_doc_and_span_vectors(nlp):
    doc = nlp(TEXT)
    sents = list(doc.sents)
    assert len(sents) == 3 and doc.has_vector
    assert doc.vector.shape == (32,) and np.allclose(doc.vector, doc._.sbert)
    direct = nlp.get_pipe("sbert").encoder.encode([s.text for s in sents])
    np.testing.assert_allclose(np.stack([s.vector for s in sents]), direct, atol=1e-5)
    np.testing.assert_allclose(sents[0]._.sbert, sents[0].vector)


def test_any_span_gets_a_vector_on_demand(nlp):
    doc = nlp(TEXT)
    span = doc[1:4]
    expected = nlp.get_pipe("sbert").encoder.encode(span.text)
    np.testing.assert_allclose(span.vector, expected, atol=1e-5)


def test_similarity_uses_sbert(nlp):
    a, b = nlp("the man plays guitar"), nlp("the man plays guitar")
    assert a.similarity(b) == pytest.approx(1.0, abs=1e-5)
    sents = list(nlp(TEXT).sents)
    expected = float(np.dot(sents[0].vector, sents[1].vector))
    assert sents[0].similarity(sents[1]) == pytest.approx(expected, abs=1e-5)
    assert -1.0 <= a.similarity(sents[1]) <= 1.0


def test_pipe_encodes_once_per_batch(nlp):
    component = nlp.get_pipe("sbert")
    calls = []
    encode = component.encoder.encode
    component.encoder.encode = lambda texts, **kw: calls.append(len(texts)) or encode(texts, **kw)
    try:
        docs = list(nlp.pipe([TEXT] * 10, batch_size=5))
    finally:
        del component.encoder.encode
    assert len(calls) == 2 and calls[0] == 5 * 4  # 5 docs x (doc + 3 sentences)
    assert all(d.has_vector for d in docs)


def test_empty_and_whitespace_docs(nlp):
    for text in ("", "   \n "):
        doc = nlp(text)
        assert doc.vector.shape == (32,) and not np.any(doc.vector)
        with pytest.warns(UserWarning, match="empty"):
            assert doc.similarity(nlp("a dog")) == 0.0


def test_long_docs_chunk_if_asked_and_warn_by_default(tiny_model_dir):
    # long_texts has one default for every host (warn: truncate and say so); chunk embeds the whole doc
    long_text = "the man plays guitar . " * 30
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": str(tiny_model_dir), "spans": ["doc"], "long_texts": "chunk"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", LongTextWarning)
        assert nlp(long_text).has_vector
    warn = spacy.blank("en")
    warn.add_pipe("sbert", config={"model": str(tiny_model_dir), "spans": ["doc"]})
    with pytest.warns(LongTextWarning, match="1 of 1 texts exceed"):
        warn(long_text)


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("dtype", "float8", "dtype='float8'"),
        ("long_texts", "cut", "long_texts='cut'"),
        ("spans", ["words"], "spans=['words']"),
        ("batch_size", 0, "batch_size=0"),
    ],
)
def test_bad_config_names_the_field(tiny_model_dir, field, value, fragment):
    nlp = spacy.blank("en")
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        nlp.add_pipe("sbert", config={"model": str(tiny_model_dir), field: value})


def test_wrong_type_rejected_by_spacy_validation(tiny_model_dir):
    nlp = spacy.blank("en")
    with pytest.raises(Exception, match="batch_size"):
        nlp.add_pipe("sbert", config={"model": str(tiny_model_dir), "batch_size": "many"})


def test_noun_chunks_need_a_parser(tiny_model_dir):
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": str(tiny_model_dir), "spans": ["noun_chunks"]})
    with pytest.raises(ConfigError, match="dependency parser"):
        nlp("a dog")


def test_docbin_round_trip_keeps_vectors(nlp):
    docs = list(nlp.pipe([TEXT, "a dog"]))
    blob = DocBin(docs=docs, store_user_data=True).to_bytes()
    fresh = spacy.blank("en")
    back = [
        __import__("sbert_plugins.spacy", fromlist=["x"]).attach_hooks(d)
        for d in DocBin().from_bytes(blob).get_docs(fresh.vocab)
    ]
    for before, after in zip(docs, back, strict=False):
        np.testing.assert_allclose(before.vector, after.vector)
        np.testing.assert_allclose([s.vector for s in before.sents], [s.vector for s in after.sents])


def test_to_disk_and_spacy_load(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    np.testing.assert_allclose(loaded(TEXT).vector, nlp(TEXT).vector, atol=1e-6)


def test_a_pipeline_saved_without_weights_refuses_a_different_model_of_the_same_name(tiny_model_dir, tmp_path):
    """Trust issue, item 5: the saved pipeline records the weights' fingerprint, as the sklearn pickle does."""
    from sbert_plugins import EmbeddingContractError, shared_encoders
    from sbert_plugins.testing import make_tiny_model

    source = tmp_path / "same-name"
    shutil.copytree(tiny_model_dir, source)
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": str(source), "device": "cpu"})
    expected = nlp(TEXT).vector
    nlp.to_disk(tmp_path / "pipe")
    assert spacy.load(tmp_path / "pipe")(TEXT).vector.tolist() == expected.tolist()  # same weights: fine
    shutil.rmtree(source)
    make_tiny_model(source, seed=7)  # another model in a folder of the same name
    shared_encoders.clear()
    with pytest.raises(EmbeddingContractError, match=r"saved with model .* of fingerprint .* bundle_model=True"):
        spacy.load(tmp_path / "pipe")(TEXT)


def test_bundled_model_runs_without_the_original(tiny_model_dir, tmp_path):
    source = tmp_path / "src_model"
    shutil.copytree(tiny_model_dir, source)
    nlp = spacy.blank("en")
    nlp.add_pipe("sbert", config={"model": str(source), "bundle_model": True})
    expected = nlp(TEXT).vector
    nlp.to_disk(tmp_path / "pipe")
    shutil.rmtree(source)  # as on another machine
    assert (tmp_path / "pipe" / "sbert" / "model" / "modules.json").is_file()
    np.testing.assert_allclose(spacy.load(tmp_path / "pipe")(TEXT).vector, expected, atol=1e-6)


def test_model_shared_between_components(tiny_model_dir):
    a, b = spacy.blank("en"), spacy.blank("en")
    ca = a.add_pipe("sbert", config={"model": str(tiny_model_dir)})
    cb = b.add_pipe("sbert", config={"model": str(tiny_model_dir)})
    assert ca.encoder is cb.encoder


def test_extensions_registered_idempotently(tiny_model_dir):
    from sbert_plugins.spacy import register_extensions

    register_extensions()
    register_extensions()
    assert Doc.has_extension("sbert")


def test_n_process_two_with_sentencizer(nlp):
    texts = [TEXT, "a dog runs.", "red car. big book."]
    docs = list(nlp.pipe(texts, n_process=2, batch_size=2))
    from sbert_plugins.spacy import attach_hooks

    for text, doc in zip(texts, docs, strict=False):
        attach_hooks(doc)
        np.testing.assert_allclose(doc.vector, nlp(text).vector, atol=1e-5)
