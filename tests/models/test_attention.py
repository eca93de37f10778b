"""The encoder's two attention paths: the matmul path equals torch's fused kernel, padded keys and all,
and is chosen only where it was measured faster (CPU inference in bf16 or float32, scores within the
budget), whichever dtype ``auto`` picks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sbert_plugins._loading.module_configs import load_bert
from sbert_plugins.models import _attention
from sbert_plugins.models._attention import KEY_BLOCK, MATMUL_MAX_SCORES, attention, key_mask, matmul_attention


def _qkv(batch, heads, tokens, dims, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, heads, tokens, dims, generator=g).to(dtype) for _ in range(3)]


def _keep(batch, tokens, seed=1):
    """Rows of different lengths (one full, one of a single token), as a length-sorted batch has."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, tokens + 1, (batch,), generator=g)
    lengths[0], lengths[-1] = tokens, 1
    return (torch.arange(tokens)[None, :] < lengths[:, None]).long()


@pytest.fixture
def fused_calls(monkeypatch):
    """How often torch's fused kernel ran."""
    calls = []
    real = F.scaled_dot_product_attention

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_attention.F, "scaled_dot_product_attention", counted)
    return calls


@pytest.mark.parametrize("tokens", [1, 5, 16, 20, 33, 64])
def test_matmul_attention_equals_the_fused_kernel(tokens):
    q, k, v = _qkv(6, 4, tokens, 8, dtype=torch.float64)
    keep = _keep(6, tokens)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :].bool())
    bias = key_mask(keep, torch.zeros(6, tokens, 8), 4, training=False).double()  # float32's min: weight 0 still
    assert bias.shape[-1] == -(-tokens // KEY_BLOCK) * KEY_BLOCK
    got = matmul_attention(q, k, v, bias)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-12)


def test_key_mask_in_bf16_is_a_padded_bias_and_the_layers_give_the_fused_answer():
    keep = _keep(5, 20)
    x = torch.zeros(5, 20, 8, dtype=torch.bfloat16)
    bias = key_mask(keep, x, 4, training=False)
    assert bias.dtype == torch.bfloat16 and bias.shape == (5, 1, 1, 32)  # 20 keys padded to 2 blocks
    low = torch.finfo(torch.bfloat16).min
    assert torch.equal(bias[:, 0, 0, :20] == low, keep == 0) and bool((bias[..., 20:] == low).all())
    q, k, v = _qkv(5, 4, 20, 8, dtype=torch.bfloat16)
    got = attention(q, k, v, bias, 0.0).float()
    want = F.scaled_dot_product_attention(*(t.float() for t in (q, k, v)), attn_mask=keep[:, None, None, :].bool())
    assert (got - want).abs().max() < 0.05  # bf16 scores and weights, against a float32 reference


@pytest.mark.parametrize(
    "why",
    ["float16", "training", "large", "tracing"],
)
def test_key_mask_keeps_the_fused_kernel_where_matmuls_were_not_measured_faster(why, monkeypatch):
    tokens, heads = 16, 12
    if why == "large":  # one score more than the budget: 4 x 12 x 16 x 16 is 12,288
        monkeypatch.setattr(_attention, "MATMUL_MAX_SCORES", 4 * heads * tokens * tokens - 1)
    dtype = torch.float16 if why == "float16" else torch.bfloat16
    if why == "tracing":
        monkeypatch.setattr(torch.jit, "is_tracing", lambda: True)
    keep = _keep(4, tokens)
    mask = key_mask(keep, torch.zeros(4, tokens, 8, dtype=dtype), heads, training=why == "training")
    assert mask.dtype == torch.bool and torch.equal(mask[:, 0, 0, :], keep.bool())


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("tokens", [4, 16])  # 16: a whole block, so a padded key is added for the empty row
def test_a_row_with_no_key_to_attend_to_gets_zeros_as_from_the_fused_kernel(dtype, tokens):
    q, k, v = _qkv(3, 2, tokens, 8, dtype=dtype)
    keep = torch.ones(3, tokens, dtype=torch.long)
    keep[1] = 0
    keep[2, tokens // 2 :] = 0
    bias = key_mask(keep, q[:, 0], 2, training=False)
    assert bias.dtype == dtype
    got = attention(q, k, v, bias, 0.0)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :].bool())
    assert bool((got[1] == 0).all()) and bool((want[1] == 0).all())
    assert (got.float() - want.float()).abs().max() < (1e-6 if dtype == torch.float32 else 0.05)


def test_autocast_keeps_the_fused_kernel():
    """Under autocast the linear layers hand attention another dtype than the hidden states'."""
    keep = _keep(3, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mask = key_mask(keep, torch.zeros(3, 8, 8), 4, training=False)
    assert mask.dtype == torch.bool


def test_a_layer_training_alone_still_gets_its_dropout():
    q, k, v = _qkv(3, 2, 8, 8)
    bias = key_mask(_keep(3, 8), q[:, 0], 2, training=False)  # the encoder is in eval mode
    torch.manual_seed(0)
    dropped = attention(q, k, v, bias, 0.5)
    assert not torch.allclose(dropped, attention(q, k, v, bias, 0.0))


def _bert_folder(tmp_path):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=99, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128
    )
    BertModel(config).eval().save_pretrained(str(tmp_path))
    return json.loads((tmp_path / "config.json").read_text())


def test_bf16_encoder_takes_the_matmul_path_and_agrees_with_float32(tmp_path, fused_calls):
    config = _bert_folder(tmp_path)
    model = load_bert(tmp_path, config)
    assert model is not None
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(1, 99, (4, 21), generator=g)
    keep = _keep(4, 21)
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=keep).last_hidden_state
        fused_calls.clear()
        got = model.to(torch.bfloat16)(input_ids=ids, attention_mask=keep).last_hidden_state.float()
    assert fused_calls == []  # every layer took the matmuls
    rows = keep.bool()
    cosine = F.cosine_similarity(got[rows], want[rows], dim=-1)
    assert float(cosine.min()) > 0.999


@pytest.mark.parametrize("auto", ["float32", "bfloat16"])  # an AVX2 CPU's answer, and an AMX / AVX512-BF16 one's
def test_an_encoder_with_dtype_auto_takes_the_matmuls_whatever_auto_picks(
    tiny_model_dir, monkeypatch, auto, fused_calls
):
    from sbert_plugins import SentenceEncoder

    monkeypatch.setenv("SBERT_PLUGINS_CPU_DTYPE", auto)  # the probe's answer on that kind of CPU
    encoder = SentenceEncoder(tiny_model_dir, device="cpu")
    assert encoder.dtype_name == auto
    texts = ["a short one", "a somewhat longer sentence about a dog", "x", "the cat sat on the mat"]
    got = encoder.encode(texts)
    assert fused_calls == []
    monkeypatch.setattr(_attention, "_matmul_attention_pays", lambda x, training: False)
    want = encoder.encode(texts)
    assert len(fused_calls) > 0
    cosine = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert float(cosine.min()) > (0.999999 if auto == "float32" else 0.999)


def test_the_score_budget_is_inclusive_and_holds_the_encode_loops_largest_cpu_batch(monkeypatch):
    from sbert_plugins._encoding.encode_loop import CPU_BATCH_TOKENS

    # the encode loop's CPU batches hold at most CPU_BATCH_TOKENS padded tokens (one longer text alone,
    # up to BERT's 512): with 16 heads of keys padded to 512, every such batch takes the matmuls
    assert max(CPU_BATCH_TOKENS, 512) * 16 * 512 <= MATMUL_MAX_SCORES
    keep = _keep(4, 16)
    monkeypatch.setattr(_attention, "MATMUL_MAX_SCORES", 4 * 12 * 16 * 16)
    assert key_mask(keep, torch.zeros(4, 16, 8, dtype=torch.bfloat16), 12, training=False).dtype == torch.bfloat16


def test_float32_inference_takes_the_matmuls_and_equals_the_fused_kernel():
    keep = _keep(5, 20)
    q, k, v = _qkv(5, 4, 20, 8)
    bias = key_mask(keep, torch.zeros(5, 20, 8), 4, training=False)
    assert bias.dtype == torch.float32 and bias.shape == (5, 1, 1, 32)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :].bool())
    assert torch.allclose(attention(q, k, v, bias, 0.0), want, atol=1e-6)
