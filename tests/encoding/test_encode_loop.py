"""Batches on CPU are bounded in texts and in padded tokens: every text in exactly one batch, in order,
with the same vectors as unbounded batches."""

from __future__ import annotations

import itertools

import numpy as np

from sbert_plugins._encoding import encode_loop


def _check_spans(lengths, batch_size, budget):
    spans = encode_loop._spans(np.array(lengths), batch_size, budget)
    assert spans[0][0] == 0 and spans[-1][1] == len(lengths)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no overlap
    for start, end in spans:
        assert 1 <= end - start <= batch_size
        if budget is not None and end - start > 1:
            assert (end - start) * lengths[start] <= budget  # longest first: the first sets the width
    return spans


def test_spans_respect_both_bounds_on_random_lengths():
    rng = np.random.default_rng(0)
    for _ in range(300):
        lengths = sorted(rng.integers(1, 600, size=int(rng.integers(1, 400))).tolist(), reverse=True)
        _check_spans(lengths, int(rng.integers(1, 130)), int(rng.choice([16, 500, 1024, 5000])))


def test_spans_without_a_budget_are_fixed_strides_and_a_long_text_rides_alone():
    assert _check_spans([5] * 10, 4, None) == [(0, 4), (4, 8), (8, 10)]
    assert _check_spans([3000, 20, 20, 20], 64, 1024) == [(0, 1), (1, 4)]  # over the budget alone: one text
    assert _check_spans([16] * 200, 64, 1024) == [(0, 64), (64, 128), (128, 192), (192, 200)]


def test_token_bounded_batches_give_the_same_vectors(tiny_model_dir, monkeypatch):
    from sbert_plugins import SentenceEncoder

    encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32")
    words = ["the", "man", "plays", "guitar", "a", "dog", "is", "very", "happy", "and", "cat", "sad"]
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 25)))) for _ in range(120)]
    monkeypatch.setattr(encode_loop, "CPU_BATCH_TOKENS", 10**9)
    unbounded = encoder.encode(texts, batch_size=64)
    widths = []
    hook = encoder.transformer.register_forward_pre_hook(lambda m, a: widths.append(tuple(a[0]["input_ids"].shape)))
    monkeypatch.setattr(encode_loop, "CPU_BATCH_TOKENS", 40)
    try:
        bounded = encoder.encode(texts, batch_size=64)
    finally:
        hook.remove()
    assert sum(rows for rows, _ in widths) == len(texts) and len(widths) > 2
    assert all(rows * width <= 40 or rows == 1 for rows, width in widths)
    np.testing.assert_allclose(bounded, unbounded, atol=1e-5)
