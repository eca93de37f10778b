"""Smaller vectors (speed-and-scale issue, precision): byte-identical to sentence-transformers'
quantize_embeddings, with ranges, calibration sets or the embeddings themselves."""

from __future__ import annotations

import numpy as np
import pytest

from sbert_plugins import (
    PRECISIONS,
    ConfigError,
    InputError,
    SentenceEncoder,
    quantization_ranges,
    quantize_embeddings,
)

st_quantize = pytest.importorskip("sentence_transformers.quantization").quantize_embeddings


@pytest.fixture(scope="module")
def vectors():
    return np.random.default_rng(1).normal(size=(300, 40)).astype(np.float32)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_bytes_equal_sentence_transformers(vectors, precision):
    ours = quantize_embeddings(vectors, precision)
    theirs = st_quantize(vectors, precision=precision)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("precision", ["int8", "uint8"])
def test_ranges_and_calibration_sets(vectors, precision):
    calibration, batch = vectors[:200], vectors[200:]
    by_set = quantize_embeddings(batch, precision, calibration_embeddings=calibration)
    np.testing.assert_array_equal(by_set, st_quantize(batch, precision=precision, calibration_embeddings=calibration))
    np.testing.assert_array_equal(
        quantize_embeddings(batch, precision, ranges=quantization_ranges(calibration)), by_set
    )
    one = quantize_embeddings(
        batch[:1], precision, ranges=quantization_ranges(calibration)
    )  # one row is fine with ranges
    np.testing.assert_array_equal(one, by_set[:1])


def test_refusals_name_the_value_and_the_fix(vectors):
    with pytest.raises(ConfigError, match="precision='int4'"):
        quantize_embeddings(vectors, "int4")
    with pytest.raises(InputError, match="needs ranges: pass ranges= or calibration_embeddings="):
        quantize_embeddings(vectors[:1], "int8")
    with pytest.raises(InputError, match="must be floats"):
        quantize_embeddings(vectors.astype(np.int8), "binary")
    with pytest.raises(ConfigError, match=r"ranges must have shape \(2, 40\)"):
        quantize_embeddings(vectors, "uint8", ranges=np.zeros((2, 3)))
    with pytest.warns(UserWarning, match="buckets from only 5 embeddings are unstable"):
        quantize_embeddings(vectors[:5], "int8")


def test_encode_takes_a_precision(tiny_encoder):
    texts = [f"the man plays guitar {i}" for i in range(120)]
    full = tiny_encoder.encode(texts)
    np.testing.assert_array_equal(tiny_encoder.encode(texts, precision="ubinary"), np.packbits(full > 0, axis=-1))
    np.testing.assert_array_equal(tiny_encoder.encode(texts, precision="int8"), st_quantize(full, precision="int8"))
    assert tiny_encoder.encode(texts, precision="binary", convert_to="torch").shape == (120, 4)
    assert isinstance(tiny_encoder, SentenceEncoder)
