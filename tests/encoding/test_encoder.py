"""SentenceEncoder on a tiny random BERT: shapes, order, bad input, policies, persistence."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch

from sbert_plugins import ConfigError, InputError, LongTextWarning, ModelLoadError, SentenceEncoder

TEXTS = ["the man plays guitar", "a dog", "the cat is very happy and the dog is sad", "red car"]


def test_shapes_and_dtype(tiny_encoder):
    out = tiny_encoder.encode(TEXTS)
    assert out.shape == (4, 32) and out.dtype == np.float32
    assert tiny_encoder.encode("a dog").shape == (32,)
    assert isinstance(tiny_encoder.encode(TEXTS, convert_to="torch"), torch.Tensor)


def test_order_preserved_across_batches(tiny_encoder):
    batched = tiny_encoder.encode(TEXTS * 5, batch_size=3)
    one_by_one = np.stack([tiny_encoder.encode(t) for t in TEXTS * 5])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_accepts_generators_and_numpy(tiny_encoder):
    expected = tiny_encoder.encode(TEXTS)
    np.testing.assert_allclose(tiny_encoder.encode(t for t in TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(tiny_encoder.encode(np.array(TEXTS)), expected, atol=1e-6)


def test_empty_list_gives_empty_array(tiny_encoder):
    assert tiny_encoder.encode([]).shape == (0, 32)


@pytest.mark.parametrize(
    "bad, fragment",
    [
        (None, "texts is None"),
        (["ok", None], "texts[1] is None"),
        (["ok", 3], "texts[1] is 3 of type int"),
        (["ok", float("nan")], "texts[1] is nan"),
        (b"bytes", "decode it first"),
        (42, "must be a string or an iterable"),
    ],
)
def test_bad_input_names_value(tiny_encoder, bad, fragment):
    with pytest.raises(InputError) as info:
        tiny_encoder.encode(bad)
    assert fragment in str(info.value)


def test_empty_strings_refused_unless_allowed(tiny_encoder):
    with pytest.raises(InputError, match=r"texts\[1\] is empty"):
        tiny_encoder.encode(["a dog", "  "])
    assert tiny_encoder.encode(["a dog", ""], allow_empty=True).shape == (2, 32)


def test_long_texts_warn_with_count(tiny_encoder):
    long = " ".join(["the man plays guitar"] * 20)
    with pytest.warns(LongTextWarning, match="1 of 2 texts exceed max_seq_length=32"):
        tiny_encoder.encode([long, "a dog"])


def test_long_texts_error_policy(tiny_encoder):
    long = " ".join(["the dog"] * 40)
    with pytest.raises(InputError, match="long_texts='chunk'"):
        tiny_encoder.encode([long], long_texts="error")


def test_long_texts_chunk_policy_embeds_all_tokens(tiny_model_dir):
    encoder = SentenceEncoder(str(tiny_model_dir), long_texts="chunk", chunker="tokens", device="cpu")
    first, second = "the man plays guitar . " * 10, "the cat eats food . " * 10
    with warnings.catch_warnings():
        warnings.simplefilter("error", LongTextWarning)
        whole = encoder.encode(first + second)
    head = encoder.encode(first)
    assert whole.shape == (32,)
    assert not np.allclose(whole, head, atol=1e-3)  # the tail changed the vector: nothing was cut


def test_sentence_chunker_keeps_sentences(tiny_model_dir):
    from sbert_plugins._encoding.encode_loop import chunk_ids

    encoder = SentenceEncoder(str(tiny_model_dir), long_texts="chunk", device="cpu")
    chunks = chunk_ids(encoder, "the man plays guitar . " * 12, encoder.chunker_fn())
    assert len(chunks) > 1 and all(len(c) <= 32 for c in chunks)


def test_bad_policy_and_dtype_named():
    with pytest.raises(ConfigError, match="long_texts='cut'"):
        SentenceEncoder(modules=[], long_texts="cut")
    from sbert_plugins._base.options import check_dtype

    with pytest.raises(ConfigError, match="dtype='float8'"):
        check_dtype("float8")


@pytest.mark.parametrize("mode", ["mean", "max", "cls", "mean_sqrt_len"])
def test_pooling_modes(tiny_model_dir, mode):
    encoder = SentenceEncoder(str(tiny_model_dir), pooling=mode, device="cpu")
    assert encoder.encode(TEXTS).shape == (4, 32)
    assert encoder.contract()["pooling"] == mode


def test_max_pooling_ignores_padding(tiny_model_dir):
    encoder = SentenceEncoder(str(tiny_model_dir), pooling="max", device="cpu")
    alone = encoder.encode("a dog")
    padded = encoder.encode(["a dog", "the cat is very happy and the dog is sad"])[0]
    np.testing.assert_allclose(alone, padded, atol=1e-5)


def test_concatenated_pooling(tiny_model_dir):
    encoder = SentenceEncoder(str(tiny_model_dir), pooling=["mean", "max"], device="cpu")
    assert encoder.dimension == 64 and encoder.encode(TEXTS).shape == (4, 64)


def test_unknown_pooling_lists_choices(tiny_model_dir):
    with pytest.raises(ConfigError, match=r"unknown pooling mode.*choose from"):
        SentenceEncoder(str(tiny_model_dir), pooling="median", device="cpu")


def test_normalize(tiny_model_dir, tiny_normalized_dir):
    plain = SentenceEncoder(str(tiny_model_dir), device="cpu")
    unit = plain.encode(TEXTS, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)
    stored = SentenceEncoder(str(tiny_normalized_dir), device="cpu")
    assert stored.normalize and stored.contract()["normalize"] is True
    off = SentenceEncoder(str(tiny_normalized_dir), normalize=False, device="cpu")
    assert not off.normalize


def test_save_load_round_trip_is_exact(tiny_encoder, tmp_path):
    tiny_encoder.save(tmp_path / "copy")
    again = SentenceEncoder(str(tmp_path / "copy"), device="cpu")
    np.testing.assert_array_equal(tiny_encoder.encode(TEXTS), again.encode(TEXTS))
    assert again.fingerprint == SentenceEncoder(str(tmp_path / "copy"), device="cpu").fingerprint
    modules = json.loads((tmp_path / "copy" / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling"]


def test_plain_transformers_checkpoint_uses_mean(tiny_model_dir, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(tiny_model_dir, plain)
    (plain / "modules.json").unlink()
    shutil.rmtree(plain / "1_Pooling")
    encoder = SentenceEncoder(str(plain), device="cpu")
    np.testing.assert_allclose(
        encoder.encode(TEXTS), SentenceEncoder(str(tiny_model_dir), device="cpu").encode(TEXTS), atol=1e-6
    )


def test_missing_folder_is_clear(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        SentenceEncoder(str(tmp_path / "nope"))
    with pytest.raises(ModelLoadError, match=r"no known model name.*'some-org/unknown-model' is not in the local"):
        SentenceEncoder("some-org/unknown-model")


@pytest.mark.parametrize("victim", ["modules.json", "1_Pooling/config.json", "config.json"])
def test_corrupt_config_names_the_file(tiny_model_dir, tmp_path, victim):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / victim).write_text("{not json")
    with pytest.raises(ModelLoadError, match="corrupt JSON in .*" + victim.split("/")[-1]):
        SentenceEncoder(str(broken), device="cpu")


def test_unknown_module_type(tiny_model_dir, tmp_path):
    broken = tmp_path / "odd"
    shutil.copytree(tiny_model_dir, broken)
    spec = json.loads((broken / "modules.json").read_text())
    spec[1]["type"] = "sentence_transformers.models.LSTM"
    (broken / "modules.json").write_text(json.dumps(spec))
    with pytest.raises(ModelLoadError, match=r"module type 'sentence_transformers.models.LSTM'"):
        SentenceEncoder(str(broken), device="cpu")


def test_bfloat16_close_to_float32(tiny_model_dir):
    fp32 = SentenceEncoder(str(tiny_model_dir), device="cpu").encode(TEXTS)
    bf16 = SentenceEncoder(str(tiny_model_dir), device="cpu", dtype="bfloat16").encode(TEXTS)
    assert bf16.dtype == np.float32
    cos = (fp32 * bf16).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(bf16, axis=1)
    assert cos.min() > 0.98


def test_bad_device_and_batch_size(tiny_model_dir, tiny_encoder):
    with pytest.raises(ConfigError, match="device='gpu0'"):
        SentenceEncoder(str(tiny_model_dir), device="gpu0")
    with pytest.raises(ConfigError, match="batch_size"):
        tiny_encoder.encode(TEXTS, batch_size=0)


def test_shared_encoder_loads_once(tiny_model_dir):
    from sbert_plugins import shared_encoder

    assert shared_encoder(str(tiny_model_dir), device="cpu") is shared_encoder(str(tiny_model_dir), device="cpu")


def test_a_long_encode_shows_texts_per_second(tiny_encoder, capsys):
    texts = [f"the man plays guitar {i}" for i in range(300)]
    quiet = tiny_encoder.encode(texts)
    np.testing.assert_array_equal(tiny_encoder.encode(texts, show_progress_bar=True, batch_size=64), quiet)
    err = capsys.readouterr().err
    assert "Encoding" in err and "text/s" in err and "300/300" in err
