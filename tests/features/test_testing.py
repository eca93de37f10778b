"""The test helpers themselves: a tiny model that must tell texts apart, or every test built on it is weaker
than it reads (order kept, cache keys, duplicates, chunk averaging, ids <-> vectors, training)."""

from __future__ import annotations

import itertools

import numpy as np

from sbert_plugins import SentenceEncoder
from sbert_plugins.testing import WORDS, make_tiny_model

TEXTS = ["the man plays guitar", "a dog eats food", "the cat reads a book", "a red car", "big blue city", "sad"]


def test_tiny_model_tokenizes_its_own_words(tiny_encoder):
    tokenizer = tiny_encoder.tokenizer
    unk = tokenizer.unk_token_id
    ids = {word: tokenizer.convert_tokens_to_ids(word) for word in WORDS}
    assert unk not in ids.values() and len(set(ids.values())) == len(WORDS)
    encoded = tokenizer("The man plays guitar", add_special_tokens=False)["input_ids"]
    assert encoded == [ids["the"], ids["man"], ids["plays"], ids["guitar"]]
    assert unk not in tokenizer("zebra 42")["input_ids"]  # unknown words fall back to letters and digits


def test_tiny_model_gives_distinct_vectors_for_distinct_texts(tiny_encoder):
    vectors = tiny_encoder.encode(TEXTS)
    for a, b in itertools.combinations(range(len(TEXTS)), 2):
        assert not np.allclose(vectors[a], vectors[b], atol=1e-4), (TEXTS[a], TEXTS[b])
    np.testing.assert_array_equal(tiny_encoder.encode(TEXTS[::-1]), vectors[::-1])  # order kept, per text


def test_tiny_model_reloads_with_its_vocabulary(tmp_path):
    folder = make_tiny_model(tmp_path / "m", seed=3)
    first = SentenceEncoder(folder, device="cpu", dtype="float32")
    again = SentenceEncoder(folder, device="cpu", dtype="float32")
    assert len(first.tokenizer) == len(again.tokenizer) > len(WORDS)
    np.testing.assert_array_equal(first.encode(TEXTS), again.encode(TEXTS))
