"""A tokenizer that panics fails its text alone; giant texts cost bounded work (trust issue, items 1 and 8)."""

from __future__ import annotations

import json
import shutil
import time
import warnings

import numpy as np
import pytest
from support import assert_accounted

from sbert_plugins import InMemoryStore, InputError, LongTextWarning, SentenceEncoder
from sbert_plugins._encoding.encode_loop import CHARS_PER_TOKEN, MAX_CHUNKED_CHARS

PANICS = "a" * 24 + "c"  # catastrophic backtracking in the pre-tokenizer's regex: the Rust tokenizer panics


@pytest.fixture(scope="module")
def panicking_dir(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("panic") / "model"
    shutil.copytree(tiny_model_dir, folder)
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    tokenizer["pre_tokenizer"] = {"type": "Split", "pattern": {"Regex": "(a+a+)+b"}, "behavior": "Isolated"}
    tokenizer["pre_tokenizer"]["invert"] = False
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"  # so tokenizer.json's pre-tokenizer is the one used
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_a_panicking_tokenizer_fails_that_text_alone(panicking_dir):
    encoder = SentenceEncoder(panicking_dir, device="cpu", dtype="float32")
    with pytest.raises(InputError) as caught:
        encoder.encode(["a dog", PANICS, "the cat"])
    assert caught.value.indices == [1] and "tokenizer failed" in caught.value.reasons[0]
    assert encoder.encode(["a dog", "the cat"]).shape == (2, 32)  # the encoder is still usable


def test_ingest_reports_the_panicking_document_and_lands_the_rest(panicking_dir):
    store = InMemoryStore(SentenceEncoder(panicking_dir, device="cpu", dtype="float32"))
    docs = [{"id": f"d{i}", "text": t} for i, t in enumerate(["a dog", PANICS, "the cat", PANICS + " b"])]
    report = store.ingest(docs)
    assert_accounted(report, [d["id"] for d in docs])
    assert sorted(report.indexed_ids) == ["d0", "d2"] and {f.id for f in report.failures} == {"d1", "d3"}
    assert all("PanicException" in f.reason for f in report.failures)


def test_the_sklearn_host_gets_a_clear_error(panicking_dir):
    pytest.importorskip("sklearn")
    from sbert_plugins.sklearn import SBERTTransformer

    estimator = SBERTTransformer(model=str(panicking_dir), device="cpu", dtype="float32", cache=False).fit()
    with pytest.raises(InputError, match="tokenizer failed"):
        estimator.transform(["a dog", PANICS])


def test_a_giant_text_is_truncated_without_tokenizing_it_all(tiny_encoder):
    giant = "the man plays guitar . " * 500_000  # 11.5 MB
    head = giant[: tiny_encoder.max_seq_length * CHARS_PER_TOKEN]
    start = time.perf_counter()
    with pytest.warns(LongTextWarning, match="1 of 1 texts exceed"):
        vector = tiny_encoder.encode([giant])
    elapsed = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LongTextWarning)
        np.testing.assert_array_equal(vector, tiny_encoder.encode([head]))  # the same truncation
    assert elapsed < 30, elapsed  # a bound on the work, far above the ~0.1 s it takes (full tokenization: minutes)


def test_error_policy_refuses_a_giant_text_by_index(tiny_model_dir):
    strict = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", long_texts="error")
    with pytest.raises(InputError) as caught:
        strict.encode(["a dog", "word " * 2_000_000])
    assert caught.value.indices == [1] and "over max_seq_length" in caught.value.reasons[0]


def test_chunk_policy_has_a_documented_character_limit(tiny_model_dir):
    chunking = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", long_texts="chunk")
    with pytest.raises(InputError) as caught:
        chunking.encode(["a dog", "x" * (MAX_CHUNKED_CHARS + 1)])
    assert caught.value.indices == [1] and "split it first" in caught.value.reasons[0]
    start = time.perf_counter()
    long = "the man plays guitar. " * 20_000  # 440k chars: chunked whole
    assert chunking.encode([long]).shape == (1, 32)
    assert time.perf_counter() - start < 120
