"""Training on the tiny random BERT: losses fall, save/load is exact, ST can load the result."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sbert_plugins import ConfigError, SentenceEncoder
from sbert_plugins.training import (
    CosineSimilarityLoss,
    InputExample,
    MultipleNegativesRankingLoss,
    SoftmaxLoss,
    TrainConfig,
    TripletLoss,
    fit,
    make_loss,
    sts_evaluator,
)

PAIRS = [
    InputExample(("the man plays guitar", "a man plays music"), 0.9),
    InputExample(("the cat is happy", "the dog is sad"), 0.2),
    InputExample(("red car", "a red car"), 1.0),
    InputExample(("the child eats food", "a big blue book"), 0.0),
] * 4


@pytest.fixture(params=["float32", "bfloat16"], ids=["cpu-auto-fp32", "cpu-auto-bf16"])
def encoder(request, tiny_model_dir, monkeypatch):
    """A default (dtype="auto") encoder as each kind of CPU makes it: float32 where bf16 is emulated
    (AVX2-only), bfloat16 where it is native and faster (AMX, AVX512-BF16). The CPU's answer is forced."""
    monkeypatch.setenv("SBERT_PLUGINS_CPU_DTYPE", request.param)
    made = SentenceEncoder(str(tiny_model_dir), device="cpu")
    assert made.dtype_name == request.param
    return made


def _mean(values):
    return float(np.mean(values))


@pytest.mark.parametrize(
    "loss_factory, data",
    [
        (lambda e: CosineSimilarityLoss(), PAIRS),
        (lambda e: SoftmaxLoss(e.dimension, 3), [InputExample(x.texts, i % 3) for i, x in enumerate(PAIRS)]),
        (lambda e: TripletLoss(), [InputExample((a, b, "the child eats food")) for a, b in (x.texts for x in PAIRS)]),
        (lambda e: MultipleNegativesRankingLoss(), [InputExample(x.texts) for x in PAIRS[:4]] * 4),
    ],
)
def test_a_few_steps_lower_the_loss(encoder, loss_factory, data):
    result = fit(encoder, data, loss_factory(encoder), TrainConfig(epochs=12, batch_size=4, lr=1e-3, warmup_ratio=0.0))
    assert _mean(result.losses[-4:]) < _mean(result.losses[:4])
    assert not encoder.training  # back in eval mode


def test_save_load_round_trip_is_exact_and_fingerprint_changes(encoder, tmp_path):
    before = encoder.fingerprint
    fit(encoder, PAIRS, CosineSimilarityLoss(), TrainConfig(batch_size=4, lr=1e-3), output_path=tmp_path / "out")
    assert encoder.fingerprint != before
    loaded = SentenceEncoder(str(tmp_path / "out"), device="cpu")
    texts = ["the man plays guitar", "red car"]
    np.testing.assert_array_equal(encoder.encode(texts), loaded.encode(texts))


def test_sentence_transformers_loads_the_saved_folder(encoder, tmp_path):
    st = pytest.importorskip("sentence_transformers")
    fit(encoder, PAIRS, CosineSimilarityLoss(), TrainConfig(batch_size=4, lr=1e-3), output_path=tmp_path / "out")
    text = ["the man plays guitar"]
    theirs = st.SentenceTransformer(str(tmp_path / "out"), device="cpu").encode(text)
    # checkpoints hold the float32 master weights, whatever precision the encoder encodes in
    ours = SentenceEncoder(str(tmp_path / "out"), device="cpu", dtype="float32").encode(text)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    mine = encoder.encode(text)
    if encoder.dtype_name == "float32":
        np.testing.assert_array_equal(mine, ours)
    else:
        assert float((mine * ours).sum() / np.linalg.norm(mine) / np.linalg.norm(ours)) > 0.999


def test_best_checkpoint_and_evaluations(encoder, tmp_path):
    s1, s2 = [e.texts[0] for e in PAIRS[:4]], [e.texts[1] for e in PAIRS[:4]]
    gold = [e.label for e in PAIRS[:4]]
    result = fit(
        encoder,
        PAIRS,
        CosineSimilarityLoss(),
        TrainConfig(epochs=3, batch_size=4, lr=1e-3, eval_every=4),
        evaluator=sts_evaluator(s1, s2, gold),
        output_path=tmp_path / "best",
    )
    assert len(result.evaluations) == 4 and result.best_score == max(s for _, s in result.evaluations)
    assert (tmp_path / "best" / "modules.json").is_file()


def test_head_lr_applies_to_the_loss_head(encoder):
    data = [InputExample(x.texts, i % 3) for i, x in enumerate(PAIRS)]
    loss = SoftmaxLoss(encoder.dimension, 3)
    before = loss.classifier.weight.detach().clone()
    fit(encoder, data, loss, TrainConfig(batch_size=4, lr=1e-9, head_lr=1e-2, warmup_ratio=0.0))
    assert (loss.classifier.weight - before).abs().max() > 1e-4


def test_gradient_accumulation_and_bf16_autocast(encoder):
    result = fit(
        encoder,
        PAIRS,
        CosineSimilarityLoss(),
        TrainConfig(epochs=2, batch_size=2, gradient_accumulation=2, autocast="bfloat16", lr=1e-3),
    )
    assert result.steps == 8 and all(np.isfinite(result.losses))


class _RecordingLoss(CosineSimilarityLoss):
    """Records the weights' dtype and the autocast state each step runs under."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, encoder, features, labels):
        weight = next(encoder.transformer.auto_model.parameters())
        self.seen.append((weight.dtype, torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return super().forward(encoder, features, labels)


def test_auto_encoder_trains_float32_master_weights_and_gets_its_dtype_back(encoder, tmp_path):
    from safetensors import safe_open

    chosen = encoder.dtype_name
    loss = _RecordingLoss()
    result = fit(encoder, PAIRS, loss, TrainConfig(epochs=3, batch_size=4, lr=1e-3), output_path=tmp_path / "out")
    assert all(np.isfinite(result.losses)) and loss.seen
    autocast = chosen == "bfloat16"  # autocast="auto": the 16-bit dtype the encoder's auto chose, if any
    assert {(dtype, on) for dtype, on, _ in loss.seen} == {(torch.float32, autocast)}
    if autocast:
        assert {dtype for _, _, dtype in loss.seen} == {torch.bfloat16}
    assert encoder.dtype_name == chosen and next(encoder.transformer.auto_model.parameters()).dtype == getattr(
        torch, chosen
    )
    with safe_open(str(tmp_path / "out" / "model.safetensors"), "pt") as weights:
        assert {weights.get_tensor(k).dtype for k in weights.keys()} == {torch.float32}  # noqa: SIM118
    assert encoder.contract()["dtype"] == chosen


def test_explicit_autocast_none_trains_in_float32(encoder):
    loss = _RecordingLoss()
    fit(encoder, PAIRS[:4], loss, TrainConfig(batch_size=4, autocast="none"))
    assert {(dtype, on) for dtype, on, _ in loss.seen} == {(torch.float32, False)}


def test_bad_training_config(encoder, tiny_model_dir):
    with pytest.raises(ConfigError, match="unknown loss 'hinge'"):
        make_loss("hinge", encoder)
    with pytest.raises(ConfigError, match="no training examples"):
        fit(encoder, [], CosineSimilarityLoss())
    with pytest.raises(ConfigError, match="needs \\(anchor, positive, negative\\)"):
        fit(encoder, PAIRS, TripletLoss())
    bf16 = SentenceEncoder(str(tiny_model_dir), device="cpu", dtype="bfloat16")
    with pytest.raises(ConfigError, match="train float32 weights"):
        fit(bf16, PAIRS, CosineSimilarityLoss())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_path(tiny_model_dir):
    encoder = SentenceEncoder(str(tiny_model_dir), device="cuda", dtype="float32")
    result = fit(encoder, PAIRS, CosineSimilarityLoss(), TrainConfig(batch_size=4, autocast="bfloat16"))
    assert np.isfinite(result.losses).all()


@pytest.fixture()
def train(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("score\ts1\ts2\n" + "".join(f"{e.label * 5}\t{e.texts[0]}\t{e.texts[1]}\n" for e in PAIRS))
    return path


def _train_cli(model_dir, train, output, *extra: str) -> int:
    from sbert_plugins._cli.main import main

    return main(["train", "--train", str(train), "--output", str(output), "--model", str(model_dir), *extra])


@pytest.mark.parametrize("cpu_dtype", ["float32", "bfloat16"])
def test_cli_train(tiny_model_dir, tmp_path, capsys, train, monkeypatch, cpu_dtype):
    monkeypatch.setenv("SBERT_PLUGINS_CPU_DTYPE", cpu_dtype)  # the default --dtype auto on each kind of CPU
    args = ("--eval", str(train), "--epochs", "2", "--lr", "1e-3", "--device", "cpu")
    assert _train_cli(tiny_model_dir, train, tmp_path / "m", *args) == 0
    assert "saved to" in capsys.readouterr().out and (tmp_path / "m" / "modules.json").is_file()


def test_cli_train_refuses_bf16_weights(tiny_model_dir, tmp_path, capsys, train):
    args = ("--eval", "", "--dtype", "bfloat16", "--device", "cpu")
    assert _train_cli(tiny_model_dir, train, tmp_path / "m", *args) == 1
    assert "train float32 weights" in capsys.readouterr().err


def test_a_failed_start_leaves_the_encoder_as_it_was(encoder):
    chosen = encoder.dtype_name
    for p in encoder.parameters():
        p.requires_grad_(False)
    with pytest.raises(ConfigError, match="nothing to train"):
        fit(encoder, PAIRS, CosineSimilarityLoss())
    assert encoder.dtype_name == chosen and next(encoder.transformer.auto_model.parameters()).dtype == getattr(
        torch, chosen
    )
