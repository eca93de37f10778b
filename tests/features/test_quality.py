"""The packaged all-MiniLM-L6-v2: parity with sentence-transformers and the STSb number."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.quality

SENTENCES = [
    "A man is playing a guitar.",
    "A woman is slicing an onion.",
    "The new movie is awesome!",
    "Two dogs run across a snowy field while the sun sets behind the mountains.",
    "Ünïcödé and emoji 🙂 are handled too.",
    "word " * 300,  # longer than max_seq_length: both truncate the same way
]


def test_matches_sentence_transformers(minilm):
    st = pytest.importorskip("sentence_transformers", reason="baseline sentence-transformers not installed")
    baseline = st.SentenceTransformer(str(minilm.folder), device="cpu")
    with pytest.warns(UserWarning):
        ours = minilm.encode(SENTENCES, batch_size=4)
    theirs = baseline.encode(SENTENCES, batch_size=4)
    cos = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() >= 0.9999, cos


def test_name_resolves_offline(minilm):
    assert minilm.dimension == 384 and minilm.normalize and minilm.max_seq_length == 256


@pytest.mark.data
def test_stsb_test_spearman_reproduced(minilm, data_dir):
    from sbert_plugins import evaluate_sts

    result = evaluate_sts(minilm, "stsb")
    assert result.pairs == 1379
    assert abs(result.spearman - 82.03) <= 0.05, result


@pytest.mark.data
def test_similar_sentences_rank_first(minilm):
    from sbert_plugins import semantic_search

    corpus = ["A man is eating food.", "A man is riding a horse.", "A monkey is playing drums."]
    hits = semantic_search(minilm.encode(["Someone is having a meal."]), minilm.encode(corpus), top_k=1)
    assert hits[0][0].corpus_id == 0


def test_mpnet_parts_resolve_when_installed():
    from sbert_plugins._loading.packaged import mpnet_parts

    if mpnet_parts() is None:
        pytest.skip("all-mpnet-base-v2 parts not installed (SBERT_WITH_MPNET=1 scripts/setup.sh)")
    from sbert_plugins import SentenceEncoder

    encoder = SentenceEncoder("all-mpnet-base-v2", device="cpu")
    vectors = encoder.encode(["A man plays guitar.", "Someone plays an instrument.", "The stock market fell."])
    sims = vectors @ vectors.T
    assert encoder.dimension == 768 and sims[0, 1] > sims[0, 2] + 0.3
