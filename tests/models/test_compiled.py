"""``compile=True``: the compiled model gives the eager vectors, one graph serves every batch of two texts
or more (the layers get the matmul attention's bias), and what must stay eager stays eager."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import transformers

from sbert_plugins import ConfigError, SentenceEncoder
from sbert_plugins._loading.plugin_functions import make_pooling
from sbert_plugins.models import StaticEmbedding, Transformer, _bert

# lengths in tokens, special tokens included: 16 and 32 fill whole blocks of keys (no padding needed
# without the spare key), 29 and the rest are ragged
LENGTHS = [32, 16, 16, 29, 20, 7, 5, 3, 3, 4, 16]


def _texts(encoder: SentenceEncoder) -> list[str]:
    """Texts of ``LENGTHS`` tokens, of the tiny vocabulary's one-token words."""
    words = ["man", "dog", "plays", "guitar", "in", "the", "park", "with", "a", "red", "car"]
    texts = [" ".join(words[i % len(words)] for i in range(n - 2)) for n in LENGTHS]
    assert [len(ids) for ids in encoder.transformer.token_ids(texts)] == LENGTHS
    return texts


def _graphs() -> int:
    return int(torch._dynamo.utils.counters["stats"]["unique_graphs"])


@pytest.fixture(scope="module")
def pair(tiny_model_dir):
    """An eager and a compiled float32 encoder of the tiny BERT (the compiled one compiled at load)."""
    eager = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32")
    return eager, SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)


def test_compiled_layers_give_the_eager_vectors_with_one_graph_for_every_batch(pair, monkeypatch):
    eager, compiled = pair
    bert = compiled.transformer.auto_model
    assert isinstance(bert, _bert.BertEncoder) and bert.compiled and bert._compiled_layers is not None
    calls = []  # (hidden states' shape, mask) of every call of the compiled layers
    real = bert._compiled_layers
    monkeypatch.setattr(bert, "_compiled_layers", lambda x, mask: calls.append((x.shape, mask)) or real(x, mask))
    texts, before = _texts(compiled), _graphs()
    with torch.compiler.set_stance("fail_on_recompile"):  # a batch shape that needs a second graph fails
        for batch in (2, 3, 4, 11):
            np.testing.assert_allclose(compiled.encode(texts, batch), eager.encode(texts, batch), atol=2e-6)
        assert compiled.encode(texts[0]).shape == (32,)  # one text: eager, no graph for size 1
    assert _graphs() == before, "a batch shape compiled a second graph"
    # 11 texts in batches of 2, 3, 4, 11: 5 + 4 + 3 + 1 of two texts or more (the last of 2 has one)
    assert len(calls) == 13 and all(shape[0] >= 2 for shape, _ in calls)
    # the layers got the matmul attention's bias, with one padded key at least (16 keys -> 32)
    assert all(mask.dtype == torch.float32 for _, mask in calls)
    widths = {(shape[1], mask.shape[-1]) for shape, mask in calls}
    assert (16, 32) in widths and all(w > t and w % 16 == 0 for t, w in widths)


def test_only_inference_mode_runs_compiled(pair, monkeypatch):
    """``no_grad`` or grad-enabled calls (an evaluator, a saliency map) would each compile one more graph."""
    eager, compiled = pair
    bert = compiled.transformer.auto_model
    monkeypatch.setattr(bert, "_layers", lambda: pytest.fail("a call outside inference mode ran compiled"))
    features = compiled.transformer.tokenize(["a man plays", "the dog runs in the park"])
    with torch.no_grad():
        out = compiled.forward_features(dict(features))["sentence_embedding"]
    grad = compiled.forward_features(dict(features))["sentence_embedding"]
    torch.testing.assert_close(out, grad.detach())
    np.testing.assert_allclose(out.numpy(), eager.encode(["a man plays", "the dog runs in the park"]), atol=2e-6)


def test_training_runs_eager_and_gradients_flow(pair, monkeypatch):
    _, compiled = pair
    twin = compiled.copy()
    bert = twin.transformer.auto_model
    assert bert.compiled and bert._compiled_layers is None  # a copy compiles its own, on first use
    monkeypatch.setattr(bert, "_layers", lambda: pytest.fail("training ran the compiled layers"))
    twin.train()
    features = twin.transformer.tokenize(["a man plays", "the dog runs in the park"])
    twin.forward_features(features)["sentence_embedding"].sum().backward()
    assert bert.embeddings.word_embeddings.weight.grad is not None


def test_a_copy_and_an_unpickled_encoder_compile_their_own_layers(pair):
    eager, compiled = pair
    texts = _texts(eager)
    for other in (compiled.copy(), pickle.loads(pickle.dumps(compiled))):
        bert = other.transformer.auto_model
        assert bert._compiled_layers is None
        with torch.no_grad():
            bert.encoder.layer[0].intermediate.dense.weight.mul_(2.0)  # its own weights, not the original's
        vectors = other.encode(texts, 4)
        assert bert._compiled_layers is not None
        bert.compiled = False  # the same object, eager: the compiled graph used this object's weights
        np.testing.assert_allclose(vectors, other.encode(texts, 4), atol=2e-6)
        assert not np.allclose(vectors, eager.encode(texts, 4), atol=1e-3)
    np.testing.assert_allclose(compiled.encode(texts, 4), eager.encode(texts, 4), atol=2e-6)


def test_a_model_through_transformers_compiles_its_forward(tiny_encoder):
    tokenizer = tiny_encoder.tokenizer
    config = transformers.MPNetConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=66, pad_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.MPNetModel(config).eval()

    def encoder(**options):
        return SentenceEncoder(modules=[Transformer(model, tokenizer, 32), make_pooling(32, "mean")], **options)

    eager, compiled = encoder(device="cpu", dtype="float32"), encoder(device="cpu", dtype="float32", compile=True)
    assert compiled.transformer.compiled and compiled.transformer._compiled_forward is not None
    texts = _texts(eager)
    np.testing.assert_allclose(compiled.encode(texts, 3), eager.encode(texts, 3), atol=2e-6)


def test_compile_option_is_checked_and_a_static_model_has_nothing_to_compile():
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tok_models

    for bad in ("yes", 1, None):
        with pytest.raises(ConfigError, match=r"compile=.*use True"):
            SentenceEncoder("unused", compile=bad)
    tokenizer = Tokenizer(tok_models.WordLevel({"[UNK]": 0, "man": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    static = StaticEmbedding(tokenizer, torch.randn(2, 8))
    with pytest.raises(ConfigError, match=r"compile=True: a StaticEmbedding model .* no network to compile"):
        SentenceEncoder(modules=[static], device="cpu", compile=True)


def test_a_compiler_failure_is_a_config_error_naming_the_option(tiny_model_dir):
    import torch._inductor.config as inductor

    torch._dynamo.reset()  # the graph compiled for the other tests would need no compiler
    # torch's own patch (pytest's monkeypatch deletes a torch config entry on undo); without the disk cache,
    # since a cached kernel would need no compiler either
    broken = inductor.patch({"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False})
    try:
        with broken, pytest.raises(ConfigError, match=r"compile=True: torch.compile failed .*C\+\+ compiler.*"):
            SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
    finally:
        torch._dynamo.reset()


def test_past_the_graph_limit_an_encode_fails_instead_of_running_eagerly(tiny_model_dir, monkeypatch):
    """torch runs a function eagerly, without a word, past its recompile limit; here that is an error."""
    from sbert_plugins.models import _compiled

    encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
    monkeypatch.setattr(_compiled, "RECOMPILE_LIMIT", 1)  # the float32 graph is the one allowed
    encoder.encode(["a man plays", "a dog"])
    encoder.set_dtype("bfloat16")  # a second dtype is a second graph
    try:
        with pytest.raises(ConfigError, match="compile=True: this process already holds 1 compiled graphs"):
            encoder.encode(["a man plays", "a dog"])
    finally:
        torch._dynamo.reset()
