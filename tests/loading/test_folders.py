"""Model folders -> modules: a sentence-transformers folder, a plain transformers checkpoint, pooling and
Dense configs, prompts and the fingerprint (hostile folders are in test_hostile_models.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from sbert_plugins import ModelLoadError, SentenceEncoder
from sbert_plugins._loading.folders import folder_fingerprint
from sbert_plugins._loading.module_configs import read_pooling
from sbert_plugins._loading.st_config import read_model_settings

TEXTS = ["the man plays guitar", "a dog eats food"]


def test_a_plain_transformers_checkpoint_gets_mean_pooling(tiny_model_dir, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        if (tiny_model_dir / name).is_file():
            shutil.copy(tiny_model_dir / name, plain / name)
    ours = SentenceEncoder(plain, device="cpu", dtype="float32")
    full = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32")
    assert ours.pooling.modes == ["mean"] and not ours.normalize
    np.testing.assert_allclose(ours.encode(TEXTS), full.encode(TEXTS), atol=1e-6)


def test_pooling_config_keys(tiny_model_dir, tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_cls_token": True, "pooling_mode_max_tokens": True})
    )
    dim, modes, include_prompt = read_pooling(folder)
    assert dim == 32 and modes == ["cls", "max"] and include_prompt
    (folder / "config.json").write_text(json.dumps({"word_embedding_dimension": 32}))
    with pytest.raises(ModelLoadError, match="enables no pooling mode"):
        read_pooling(folder)


def test_prompts_are_read_and_checked(tiny_model_dir, tmp_path):
    folder = tmp_path / "prompted"
    shutil.copytree(tiny_model_dir, folder)
    config = {"prompts": {"query": "query: ", "document": ""}, "default_prompt_name": "query"}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    settings = read_model_settings(folder)
    assert settings.prompts == {"query": "query: ", "document": ""} and settings.default_prompt_name == "query"
    encoder = SentenceEncoder(folder, device="cpu", dtype="float32")
    np.testing.assert_array_equal(encoder.encode(["a dog"]), encoder.encode(["a dog"], prompt="query: "))


def test_fingerprint_follows_the_weights_not_the_path(tiny_model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    assert folder_fingerprint(copy) == folder_fingerprint(tiny_model_dir)
    from sbert_plugins.testing import make_tiny_model

    other = make_tiny_model(tmp_path / "other", seed=1)
    assert folder_fingerprint(other) != folder_fingerprint(tiny_model_dir)
