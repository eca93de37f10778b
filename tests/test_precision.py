"""dtype="auto" and device choice (GPU issue, CPU side): the fastest native precision, measured; a 16-bit
dtype that this CPU runs slowly is used as asked but with a PrecisionWarning giving the measured rates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sbert_plugins import PrecisionWarning, SentenceEncoder
from sbert_plugins._cpu import has_native_bf16
from sbert_plugins._precision import cpu_matmul_gflops, resolve_dtype


def test_auto_picks_float32_without_native_bf16_and_measures_otherwise():
    torch = pytest.importorskip("torch")
    chosen = resolve_dtype("auto", torch.device("cpu"))
    if not has_native_bf16():
        assert chosen == "float32"  # no AMX / AVX512-BF16: emulated bf16 is never faster
    else:
        faster = cpu_matmul_gflops("bfloat16") >= 1.3 * cpu_matmul_gflops("float32")
        assert chosen == ("bfloat16" if faster else "float32")
    assert resolve_dtype("auto", torch.device("cuda")) == "float16"


def test_explicit_bf16_warns_with_measured_numbers_where_it_is_slow(tiny_model_dir):
    slow = cpu_matmul_gflops("float32") > 2 * cpu_matmul_gflops("bfloat16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="bfloat16")
    messages = [
        str(w.message) for w in caught if issubclass(w.category, PrecisionWarning) and "slower" in str(w.message)
    ]
    if slow:
        assert messages and "GFLOP/s" in messages[0] and "dtype='float32' or 'auto'" in messages[0]
    else:
        assert not messages
    assert encoder.dtype_name == "bfloat16"  # used as asked


def test_auto_encoder_reports_what_it_chose(tiny_model_dir):
    encoder = SentenceEncoder(tiny_model_dir)
    assert encoder.dtype_name in ("float32", "bfloat16") and encoder.batch_size == 64
    assert "dtype=" in repr(encoder)


cuda = pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no CUDA device (CI has no GPU)")


@cuda
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cuda_16bit_parity_with_float32(minilm, dtype):
    sentences = ["A man is playing a guitar.", "A woman is slicing an onion.", "word " * 300, "Ünïcödé 🙂"]
    reference = SentenceEncoder("all-MiniLM-L6-v2", device="cuda", dtype="float32").encode(sentences)
    fast = SentenceEncoder("all-MiniLM-L6-v2", device="cuda", dtype=dtype).encode(sentences)
    cos = (reference * fast).sum(1) / np.linalg.norm(reference, axis=1) / np.linalg.norm(fast, axis=1)
    assert cos.min() >= 0.999, cos


@cuda
@pytest.mark.data
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cuda_16bit_stsb_within_a_tenth(minilm, data_dir, dtype):
    from sbert_plugins import evaluate_sts

    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cuda", dtype=dtype)
    assert encoder.batch_size == 256
    assert abs(evaluate_sts(encoder, "stsb").spearman - 82.03) <= 0.1


@cuda
def test_cuda_search_stays_on_the_gpu(minilm):
    from sbert_plugins import most_similar_pairs, semantic_search

    encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cuda")
    vectors = encoder.encode(["a cat", "a kitten", "the stock market"] * 50, convert_to="torch")
    assert vectors.is_cuda
    pairs = most_similar_pairs(vectors, top_k=5)
    assert all(s > 0.99 for s, _, _ in pairs)  # repeated sentences
    assert semantic_search(vectors[:1], vectors, top_k=3)[0][0].score > 0.99
