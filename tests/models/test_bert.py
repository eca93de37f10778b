"""The plain-torch BERT encoder against transformers' BertModel: same outputs, same files, and the
checkpoints it must leave to transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from sbert_plugins._loading.module_configs import load_bert
from sbert_plugins.models import BertEncoder
from sbert_plugins.models import supports_bert as supports


def _random_bert(folder, **overrides):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=40,
        **overrides,
    )
    model = BertModel(config, add_pooling_layer=True).eval()
    model.save_pretrained(str(folder))
    return model


def _batch():
    ids = torch.tensor([[2, 5, 9, 14, 3, 0, 0], [2, 7, 8, 11, 12, 13, 3]])
    mask = (ids != 0).long()
    mask[1, 6] = 1
    types = torch.tensor([[0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 1]])
    return ids, mask, types


@pytest.mark.parametrize("overrides", [{}, {"type_vocab_size": 1}, {"layer_norm_eps": 1e-5, "pad_token_id": 1}])
def test_outputs_equal_transformers_bert(tmp_path, overrides):
    reference = _random_bert(tmp_path, **overrides)
    config = json.loads((tmp_path / "config.json").read_text())
    ours = load_bert(tmp_path, config)
    assert isinstance(ours, BertEncoder) and not ours.training
    ids, mask, types = _batch()
    if overrides.get("type_vocab_size") == 1:
        types = torch.zeros_like(types)
    with torch.inference_mode():
        want = reference(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = ours(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    real = mask.bool()  # padded positions are never pooled
    assert torch.allclose(got[real], want[real], atol=1e-5)
    assert all(p.requires_grad for p in ours.parameters())  # trainable as loaded


def test_saved_files_load_in_transformers_unchanged(tmp_path):
    from transformers import BertModel

    _random_bert(tmp_path / "a")
    ours = load_bert(tmp_path / "a", json.loads((tmp_path / "a" / "config.json").read_text()))
    assert ours is not None
    ours.save_pretrained(str(tmp_path / "b"))
    back = BertModel.from_pretrained(str(tmp_path / "b"), add_pooling_layer=False).eval()
    ids, mask, types = _batch()
    with torch.inference_mode():
        want = back(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = ours(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    assert torch.allclose(got[mask.bool()], want[mask.bool()], atol=1e-6)


def test_what_it_leaves_to_transformers(tmp_path):
    base = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4}
    base |= {"intermediate_size": 64, "vocab_size": 99}
    assert supports(base)
    for other in (
        {"position_embedding_type": "relative_key"},
        {"hidden_act": "gelu_new"},
        {"is_decoder": True},
        {"add_cross_attention": True},
        {"torch_dtype": "float16"},
        {"model_type": "roberta"},
        {"num_attention_heads": 5},
        {"hidden_size": None},
    ):
        assert not supports({**base, **other}), other
    from transformers import BertConfig, BertForMaskedLM

    masked = BertForMaskedLM(BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4))
    masked.save_pretrained(str(tmp_path / "mlm"))  # "bert."-prefixed weights and an MLM head
    assert load_bert(tmp_path / "mlm", json.loads((tmp_path / "mlm" / "config.json").read_text())) is None
    assert load_bert(tmp_path / "nothing", base) is None  # no model.safetensors


def test_encoder_on_the_native_path_equals_the_transformers_path(tiny_model_dir, monkeypatch):
    from sbert_plugins import SentenceEncoder
    from sbert_plugins._loading import folders

    texts = ["a short one", "a somewhat longer sentence", "x"]
    native = SentenceEncoder(tiny_model_dir, device="cpu")
    assert isinstance(native.transformer.auto_model, BertEncoder)
    monkeypatch.setattr(folders, "load_bert", lambda folder, config: None)
    through_transformers = SentenceEncoder(tiny_model_dir, device="cpu")
    assert not isinstance(through_transformers.transformer.auto_model, BertEncoder)
    assert torch.allclose(
        torch.from_numpy(native.encode(texts)), torch.from_numpy(through_transformers.encode(texts)), atol=1e-6
    )


def test_loading_a_bert_model_imports_no_transformers_modeling_code(tiny_model_dir):
    """Fast start: neither transformers (modeling code, tokenizer) nor torch._dynamo is imported."""
    code = (
        "import sys; from sbert_plugins import SentenceEncoder\n"
        f"SentenceEncoder({str(tiny_model_dir)!r}, device='cpu', dtype='float32').encode(['hello world'])\n"
        "print(sorted(m for m in ('transformers', 'torch._dynamo') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
