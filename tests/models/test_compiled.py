"""``compile=True``: the compiled model gives the eager vectors, one graph serves every batch of two texts
or more (the layers get the matmul attention's bias), what must stay eager stays eager, and a package
compiled ahead of time is reused by later encoders and never for other weights."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import torch
import transformers

from sbert_plugins import ConfigError, SentenceEncoder
from sbert_plugins._loading.plugin_functions import make_pooling
from sbert_plugins.models import (
    OneDNNLinear,
    StaticEmbedding,
    Transformer,
    _bert,
    _linear,
    onednn_linear_available,
    use_onednn_linear,
)
from sbert_plugins.models._compiled import _load_package, package_path

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
def cache(tmp_path_factory):
    """A cache folder of this module's own, so the compiled package is built here, once."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("cache")
        patch.setenv("SBERT_PLUGINS_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def pair(tiny_model_dir, cache):
    """An eager and a compiled float32 encoder of the tiny BERT (the compiled one compiled at load, into a
    package of the cache: the model comes from a folder, on CPU)."""
    eager = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32")
    return eager, SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)


def _onednn_calls_from_graphs_only(monkeypatch) -> list[int]:
    """Count oneDNN's linear calls, with eager linear layers held to ``nn.Linear``'s forward, so every
    call counted comes from a compiled graph's operator."""
    seen, real = [], _linear.onednn_linear
    monkeypatch.setattr(_linear, "onednn_linear", lambda *a: seen.append(1) or real(*a))
    monkeypatch.setattr(_linear, "_plain_forward_needed", lambda *a: True)
    return seen


def _in_process(encoder: SentenceEncoder) -> SentenceEncoder:
    """A copy compiled by torch.compile in this process (changed weights, as after training, get no package)."""
    twin = encoder.copy()
    twin.mark_modified()
    assert not twin.transformer.auto_model._packaged
    return twin


@pytest.mark.parametrize("path", ["package", "torch.compile"])
def test_compiled_layers_give_the_eager_vectors_with_one_graph_for_every_batch(pair, path, monkeypatch):
    eager, compiled = pair
    if path == "torch.compile":
        compiled = _in_process(compiled)
        compiled.encode(["a man plays", "a dog"])  # compiles
    bert = compiled.transformer.auto_model
    assert isinstance(bert, _bert.BertEncoder) and bert.compiled and bert._compiled_layers is not None
    assert bert._packaged == (path == "package")
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


def test_a_later_encoder_loads_the_package_without_compiling(pair, tiny_model_dir, cache, monkeypatch):
    eager, compiled = pair
    package = package_path(compiled.transformer.auto_model.encoder)
    assert package.parent == cache / "compiled" and package.is_file()
    monkeypatch.setattr(torch.export, "export", lambda *a, **k: pytest.fail("the package was built again"))
    again = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
    assert again.transformer.auto_model._packaged and again.transformer.auto_model._weights is not None
    texts = _texts(eager)
    np.testing.assert_allclose(again.encode(texts, 4), eager.encode(texts, 4), atol=2e-6)


def test_the_package_is_named_by_the_weights_and_dtype(pair, tmp_path):
    _, compiled = pair
    package = package_path(compiled.transformer.auto_model.encoder)
    twin = compiled.copy()
    layers = twin.transformer.auto_model.encoder
    assert package_path(layers) == package
    with torch.no_grad():
        layers.layer[0].output.dense.bias.add_(1e-3)
    assert package_path(layers) != package  # other weights: another package
    other = compiled.copy()
    other.set_dtype("bfloat16")
    assert package_path(other.transformer.auto_model.encoder) not in (package, package_path(layers))  # dtype
    twin.mark_modified()  # weights changed (training calls it): no package built per change
    assert not twin.transformer.auto_model._packaged and twin.transformer.auto_model.compiled
    broken = tmp_path / "cut.pt2"
    broken.write_bytes(package.read_bytes()[:1000])
    assert _load_package(broken) is None  # a package cut short is built again, not loaded


@pytest.mark.parametrize("edit", ["in place", "load_state_dict", "cast"])
def test_weights_changed_after_the_package_loaded_are_compiled_in_the_process(pair, edit):
    """The package holds the weights it was built from: any later change moves the layers off it."""
    eager, compiled = pair
    twin = compiled.copy()
    bert = twin.transformer.auto_model
    texts = _texts(eager)
    np.testing.assert_allclose(twin.encode(texts, 4), eager.encode(texts, 4), atol=2e-6)  # from the package
    assert bert._packaged and bert._weights is not None
    with torch.no_grad():
        if edit == "in place":
            bert.encoder.layer[0].intermediate.dense.weight.mul_(2.0)
        elif edit == "load_state_dict":
            state = {k: v * 2 if k.endswith("intermediate.dense.weight") else v for k, v in bert.state_dict().items()}
            bert.load_state_dict(state)
        else:
            bert.to(torch.float64).to(torch.float32)  # new tensors, same values
    vectors = twin.encode(texts, 4)
    assert not bert._packaged and bert._compiled_layers is not None
    bert.compiled = False
    np.testing.assert_allclose(vectors, twin.encode(texts, 4), atol=2e-6)  # its own weights, compiled
    assert (edit == "cast") == np.allclose(vectors, eager.encode(texts, 4), atol=2e-6)


def test_a_cache_that_cannot_keep_the_package_warns_and_compiles_in_the_process(tiny_model_dir, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SBERT_PLUGINS_CACHE", str(blocker / "cache"))  # under a file: cannot be made
    with pytest.warns(RuntimeWarning, match="cannot keep the compiled package .* compiling in the process"):
        encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
    bert = encoder.transformer.auto_model
    assert bert.compiled and not bert._packaged and bert._compiled_layers is not None
    eager = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32")
    texts = _texts(eager)
    np.testing.assert_allclose(encoder.encode(texts, 4), eager.encode(texts, 4), atol=2e-6)
    assert not any(tmp_path.rglob("*.partial.pt2"))


def test_only_inference_mode_runs_compiled(pair, monkeypatch):
    """``no_grad`` or grad-enabled calls (an evaluator, a saliency map) would each compile one more graph."""
    eager, compiled = pair
    bert = compiled.transformer.auto_model
    monkeypatch.setattr(bert, "_layers", lambda *a: pytest.fail("a call outside inference mode ran compiled"))
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
    monkeypatch.setattr(bert, "_layers", lambda *a: pytest.fail("training ran the compiled layers"))
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
        other.mark_modified()  # as training does: the package holds the weights as they were loaded
        vectors = other.encode(texts, 4)
        assert bert._compiled_layers is not None
        bert.compiled = False  # the same object, eager: the compiled graph used this object's weights
        np.testing.assert_allclose(vectors, other.encode(texts, 4), atol=2e-6)
        assert not np.allclose(vectors, eager.encode(texts, 4), atol=1e-3)
    np.testing.assert_allclose(compiled.encode(texts, 4), eager.encode(texts, 4), atol=2e-6)


@pytest.mark.parametrize("kernel", ["onednn", "blas"] if onednn_linear_available() else ["blas"])
def test_a_model_through_transformers_compiles_its_forward(tiny_encoder, kernel, monkeypatch):
    monkeypatch.setenv("SBERT_PLUGINS_CPU_LINEAR", kernel)
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
    seen = _onednn_calls_from_graphs_only(monkeypatch)
    vectors = compiled.encode(texts, 3)
    assert (len(seen) > 0) == (kernel == "onednn"), "the compiled graph's linear layers"
    np.testing.assert_allclose(vectors, eager.encode(texts, 3), atol=2e-6)


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


@pytest.mark.parametrize("path", ["package", "torch.compile"])
def test_a_compiler_failure_is_a_config_error_naming_the_option(tiny_model_dir, path, tmp_path, monkeypatch):
    import torch._inductor.config as inductor

    monkeypatch.setenv("SBERT_PLUGINS_CACHE", str(tmp_path))  # no package to load: it must be built

    torch._dynamo.reset()  # the graph compiled for the other tests would need no compiler
    # torch's own patch (pytest's monkeypatch deletes a torch config entry on undo); without the disk cache,
    # since a cached kernel would need no compiler either
    broken = inductor.patch({"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False})
    try:
        with broken, pytest.raises(ConfigError, match=r"compile=True: torch.compile failed .*C\+\+ compiler.*"):
            if path == "package":
                SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
            else:  # modules without a folder: no package, torch.compile compiles at load
                modules = list(SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32"))
                SentenceEncoder(modules=modules, device="cpu", dtype="float32", compile=True)
    finally:
        torch._dynamo.reset()


def test_past_the_graph_limit_an_encode_fails_instead_of_running_eagerly(tiny_model_dir, monkeypatch):
    """torch runs a function eagerly, without a word, past its recompile limit; here that is an error."""
    from sbert_plugins.models import _compiled

    encoder = _in_process(SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True))
    encoder.encode(["a man plays", "a dog"])  # compiles
    monkeypatch.setattr(_compiled, "RECOMPILE_LIMIT", 1)  # the float32 graph is the one allowed
    encoder.encode(["a man plays", "a dog"])
    encoder.set_dtype("bfloat16")  # a second dtype is a second graph
    try:
        with pytest.raises(ConfigError, match="compile=True: this process already holds 1 compiled graphs"):
            encoder.encode(["a man plays", "a dog"])
    finally:
        torch._dynamo.reset()


def test_after_training_a_compiled_encoder_encodes_with_the_trained_weights(tiny_model_dir, cache):
    from sbert_plugins.training import CosineSimilarityLoss, InputExample, TrainConfig, fit

    encoder = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
    texts = _texts(encoder)
    before = encoder.encode(texts, 4)
    pairs = [InputExample(texts=[a, b], label=0.9) for a, b in itertools.pairwise(texts)]
    fit(encoder, pairs, CosineSimilarityLoss(), TrainConfig(batch_size=4, lr=1e-2, warmup_ratio=0.0))
    bert = encoder.transformer.auto_model
    assert bert.compiled and not bert._packaged  # no package of the loaded weights: they changed
    after = encoder.encode(texts, 4)
    bert.compiled = False
    np.testing.assert_allclose(after, encoder.encode(texts, 4), atol=2e-6)  # the trained weights, compiled
    assert not np.allclose(after, before, atol=1e-3)


def test_a_package_never_meets_inputs_it_was_not_built_for(pair, monkeypatch):
    """Scores over the matmul budget get a boolean mask (never within the encode loop's token bound):
    those layers run eagerly, not through a package built for the bias."""
    from sbert_plugins.models import _attention

    eager, compiled = pair
    bert = compiled.transformer.auto_model
    assert bert._packaged and bert._compiled_layers is not None
    monkeypatch.setattr(_attention, "MATMUL_MAX_SCORES", 0)
    monkeypatch.setattr(bert, "_compiled_layers", lambda *a: pytest.fail("a boolean mask met the package"))
    texts = _texts(eager)
    np.testing.assert_allclose(compiled.encode(texts, 4), eager.encode(texts, 4), atol=2e-6)


@pytest.mark.parametrize("auto", ["float32", "bfloat16"])
def test_dtype_auto_compiles_in_the_dtype_the_cpu_gets(tiny_model_dir, cache, auto, monkeypatch):
    """``auto`` is float32 on AVX2-only CPUs and bfloat16 on AMX / AVX512-BF16 ones (forced through the
    probe's variable): either way the compiled layers run in it, from a package of their own dtype."""
    monkeypatch.setenv("SBERT_PLUGINS_CPU_DTYPE", auto)
    eager = SentenceEncoder(tiny_model_dir, device="cpu", dtype="auto")
    compiled = SentenceEncoder(tiny_model_dir, device="cpu", dtype="auto", compile=True)
    bert = compiled.transformer.auto_model
    assert compiled.dtype_name == eager.dtype_name == auto and bert._packaged
    assert next(bert.encoder.parameters()).dtype == getattr(torch, auto)
    assert package_path(bert.encoder).is_file()
    texts = _texts(eager)
    a, b = eager.encode(texts, 4), compiled.encode(texts, 4)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > (0.9999999 if auto == "float32" else 0.999)


@pytest.mark.skipif(not onednn_linear_available(), reason="this torch build has no oneDNN")
@pytest.mark.parametrize("kernel", ["onednn", "blas"])
def test_compiled_float32_layers_keep_the_linear_kernel_of_the_machine(tiny_model_dir, cache, kernel, monkeypatch):
    """Where float32 linear layers run through oneDNN (the machine's verdict, forced here), the compiled
    graphs call it too, in the package and through torch.compile; each kernel gets a package of its own,
    and a switch of kernel after the load leaves the package."""
    monkeypatch.setenv("SBERT_PLUGINS_CPU_LINEAR", kernel)
    eager = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32")
    compiled = SentenceEncoder(tiny_model_dir, device="cpu", dtype="float32", compile=True)
    bert = compiled.transformer.auto_model
    assert bert._packaged and package_path(bert.encoder).is_file()
    texts, expected = _texts(eager), eager.encode(_texts(eager), 4)
    seen = _onednn_calls_from_graphs_only(monkeypatch)
    breaks = sum(torch._dynamo.utils.counters["graph_break"].values())
    for encoder in (compiled, _in_process(compiled)):
        vectors = encoder.encode(texts, 4)
        assert (len(seen) > 0) == (kernel == "onednn"), "the compiled graph's linear layers"
        seen.clear()
        np.testing.assert_allclose(vectors, expected, atol=2e-6)
    assert sum(torch._dynamo.utils.counters["graph_break"].values()) == breaks  # the layers ran as one graph
    assert use_onednn_linear(bert.encoder, on=kernel == "blas") > 0  # the other kernel, after the load
    np.testing.assert_allclose(compiled.encode(texts, 4), expected, atol=2e-6)
    assert not bert._packaged  # left for torch.compile, which traces the new kernel
    layers = eager.transformer.auto_model.encoder  # the same weights
    name = package_path(layers)
    assert use_onednn_linear(layers, on=kernel == "blas") > 0  # the other kernel
    assert package_path(layers) != name


def test_the_graph_limit_holds_while_any_thread_runs_a_compiled_call():
    """dynamo's config is one per process: one thread leaving its compiled call while another is still
    inside must not restore torch's limit (8, and a silent eager fallback) under it."""
    from sbert_plugins.models._compiled import RECOMPILE_LIMIT, _graph_limits

    config = torch._dynamo.config
    before = (config.recompile_limit, config.fail_on_recompile_limit_hit)
    first, second = _graph_limits(), _graph_limits()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # as when two threads' calls interleave
    assert (config.recompile_limit, config.fail_on_recompile_limit_hit) == (RECOMPILE_LIMIT, True)
    second.__exit__(None, None, None)
    assert (config.recompile_limit, config.fail_on_recompile_limit_hit) == before


@pytest.mark.skipif(not onednn_linear_available(), reason="this torch build has no oneDNN")
def test_a_bfloat16_package_does_not_depend_on_the_float32_linear_kernel(tiny_model_dir, cache, monkeypatch):
    """``auto`` = bfloat16 (AMX / AVX512-BF16 CPUs, forced through the probe's variable) with the oneDNN
    float32 verdict: the layers run bf16 through ``nn.Linear``'s forward (no operator of ours in the graph),
    and the package's name is the same under either float32 kernel, so a change of verdict rebuilds nothing."""
    monkeypatch.setenv("SBERT_PLUGINS_CPU_DTYPE", "bfloat16")
    monkeypatch.setenv("SBERT_PLUGINS_CPU_LINEAR", "onednn")
    eager = SentenceEncoder(tiny_model_dir, device="cpu", dtype="auto")
    compiled = SentenceEncoder(tiny_model_dir, device="cpu", dtype="auto", compile=True)
    layers = compiled.transformer.auto_model.encoder
    assert compiled.dtype_name == "bfloat16" and compiled.transformer.auto_model._packaged
    assert any(type(m) is OneDNNLinear for m in layers.modules())
    texts = _texts(eager)
    seen = _onednn_calls_from_graphs_only(monkeypatch)
    a, b = eager.encode(texts, 4), compiled.encode(texts, 4)
    assert not seen
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.999
    name = package_path(layers)
    assert use_onednn_linear(layers, on=False) > 0 and package_path(layers) == name
