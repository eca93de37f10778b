"""Parity with sentence-transformers, per architecture and in both of its folder formats (any-model issue).

Each case is a tiny random model built with transformers and wrapped and saved by sentence-transformers
itself (the installed version writes the current format); a legacy copy is made from it the way 2.x-5.3
wrote folders. Our encoder and sentence-transformers then embed the same texts, with a prompt where the
case has one: cosine >= 0.9999, same norms, same dims.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

st = pytest.importorskip("sentence_transformers")
transformers = pytest.importorskip("transformers")

from sbert_plugins import SentenceEncoder  # noqa: E402

WORDS = "the a man woman dog cat plays eats runs guitar food park red car query passage search for text".split()  # noqa: SIM905
TEXTS = ["the man plays guitar", "a dog eats food in the park", "red car", "the cat runs"]
PROMPTS = {"query": "search for query ", "document": "passage "}


def _tokenizer(folder: Path, *, kind: str) -> None:
    """A WordLevel tokenizer: BERT-style ([CLS] x [SEP]), RoBERTa-style (<s> x </s>, pad 1) or a decoder's
    (x <|endoftext|>, padded on the left, as Qwen3-Embedding's)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = {
        "bert": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        "roberta": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        "decoder": ["<|endoftext|>", "<unk>"],
    }[kind]
    vocab = {token: i for i, token in enumerate([*specials, *WORDS])}
    unk = "[UNK]" if kind == "bert" else "<unk>"
    tok = Tokenizer(models.WordLevel(vocab, unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if kind == "bert":
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
        )
        names = {"pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}
    elif kind == "roberta":
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
        )
        names = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>"}
        names["mask_token"] = "<mask>"
    else:
        tok.post_processor = processors.TemplateProcessing(
            single="$A <|endoftext|>", special_tokens=[("<|endoftext|>", 0)]
        )
        names = {"pad_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=unk, model_max_length=48, **names)
    if kind == "decoder":
        fast.padding_side = "left"
    fast.save_pretrained(str(folder))


def _config(arch: str, vocab: int):
    small = {"vocab_size": vocab, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    small["intermediate_size"] = 64
    if arch == "bert":
        return transformers.BertConfig(**small, max_position_embeddings=64), "bert"
    if arch == "xlm-roberta":
        return transformers.XLMRobertaConfig(**small, max_position_embeddings=66, pad_token_id=1), "roberta"
    if arch == "mpnet":
        return transformers.MPNetConfig(**small, max_position_embeddings=66, pad_token_id=1), "roberta"
    if arch == "distilbert":
        return transformers.DistilBertConfig(vocab_size=vocab, dim=32, n_layers=2, n_heads=2, hidden_dim=64), "bert"
    if arch == "modernbert":
        config = transformers.ModernBertConfig(**small, max_position_embeddings=64, pad_token_id=0)
        config.cls_token_id, config.sep_token_id, config.bos_token_id, config.eos_token_id = 2, 3, 2, 3
        return config, "bert"
    if arch in ("nomic-bert", "gte"):  # natively supported by transformers 5 (no remote code)
        cls = transformers.NomicBertConfig if arch == "nomic-bert" else transformers.GteConfig
        return cls(**small, max_position_embeddings=64, pad_token_id=0), "bert"
    if arch == "qwen3":
        config = transformers.Qwen3Config(**small, num_key_value_heads=1, head_dim=16, max_position_embeddings=128)
        config.pad_token_id = config.eos_token_id = 0
        return config, "decoder"
    if arch == "gemma3":
        config = transformers.Gemma3TextConfig(
            **small, num_key_value_heads=1, head_dim=16, max_position_embeddings=128, use_bidirectional_attention=True
        )
        config.pad_token_id = config.eos_token_id = 0
        return config, "decoder"
    raise AssertionError(arch)


CASES = {  # arch: (pooling mode, include_prompt, dense widths, normalize, truncate_dim, prompts)
    "bert": ("mean", True, [], True, None, None),
    "xlm-roberta": ("cls", True, [], True, None, PROMPTS),
    "mpnet": ("mean", False, [], True, None, PROMPTS),
    "distilbert": ("max", True, [], False, None, None),
    "modernbert": ("mean", True, [], True, None, None),
    "nomic-bert": ("mean", True, [], True, 16, PROMPTS),  # nomic-embed's shape: prompts and Matryoshka
    "gte": ("cls", True, [], True, None, None),
    "qwen3": ("lasttoken", False, [], True, 16, PROMPTS),
    "gemma3": ("mean", True, [48, 24], True, 16, PROMPTS),  # EmbeddingGemma's shape: Dense chain, Matryoshka
    "bert-weighted": ("weightedmean", True, [32], False, None, None),  # a residual Dense of the same width
}


def _build(arch: str, root: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer, models

    base = arch.split("-weighted")[0]
    mode, include_prompt, widths, normalize, truncate_dim, prompts = CASES[arch]
    hf = root / "hf"
    config, kind = _config(base, len(WORDS) + 5)
    _tokenizer(hf, kind=kind)
    torch.manual_seed(0)
    transformers.AutoModel.from_config(config).save_pretrained(str(hf))
    modules = [models.Transformer(str(hf)), models.Pooling(32, pooling_mode=mode, include_prompt=include_prompt)]
    width = 32
    for out in widths:
        residual = arch == "bert-weighted"
        modules.append(models.Dense(width, out, activation_function=torch.nn.Tanh(), use_residual=residual))
        width = out
    if normalize:
        modules.append(models.Normalize())
    model = SentenceTransformer(modules=modules, prompts=prompts, truncate_dim=truncate_dim, device="cpu")
    current = root / "current"
    model.save(str(current))
    return current


def _legacy_copy(current: Path, target: Path) -> Path:
    """The folder as sentence-transformers <= 5.3 wrote it (its documented keys and module paths)."""
    shutil.copytree(current, target)
    spec = json.loads((target / "modules.json").read_text())
    for entry in spec:
        entry["type"] = "sentence_transformers.models." + entry["type"].rsplit(".", 1)[-1]
    (target / "modules.json").write_text(json.dumps(spec))
    tokenizer_config = json.loads((target / "tokenizer_config.json").read_text())
    (target / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": tokenizer_config["model_max_length"], "do_lower_case": False})
    )
    for entry in spec:
        folder = target / entry["path"]
        kind = entry["type"].rsplit(".", 1)[-1]
        if kind == "Pooling":
            config = json.loads((folder / "config.json").read_text())
            modes = config["pooling_mode"] if isinstance(config["pooling_mode"], list) else [config["pooling_mode"]]
            legacy = {
                "word_embedding_dimension": config["embedding_dimension"],
                "include_prompt": config["include_prompt"],
            }
            for key, name in (("cls_token", "cls"), ("max_tokens", "max"), ("mean_tokens", "mean")):
                legacy[f"pooling_mode_{key}"] = name in modes
            legacy["pooling_mode_mean_sqrt_len_tokens"] = "mean_sqrt_len_tokens" in modes
            legacy["pooling_mode_weightedmean_tokens"] = "weightedmean" in modes
            legacy["pooling_mode_lasttoken"] = "lasttoken" in modes
            (folder / "config.json").write_text(json.dumps(legacy))
        if kind == "Dense":
            config = json.loads((folder / "config.json").read_text())
            keep = {k: config[k] for k in ("in_features", "out_features", "bias", "activation_function")}
            if config.get("use_residual"):
                keep["use_residual"] = True  # no legacy form exists: kept, as 5.7+ would read it
            (folder / "config.json").write_text(json.dumps(keep))
        if kind == "Normalize" and (folder / "config.json").exists():
            (folder / "config.json").unlink()
    return target


def _compare(folder: Path, prompt_name: str | None) -> None:
    from sentence_transformers import SentenceTransformer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, prompt_name=prompt_name)
    ours = SentenceEncoder(folder, device="cpu", dtype="float32").encode(TEXTS, prompt_name=prompt_name)
    assert ours.shape == theirs.shape
    cos = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() >= 0.9999, cos
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), np.linalg.norm(theirs, axis=1), rtol=1e-4)


@pytest.mark.parametrize("arch", list(CASES))
def test_parity_in_the_current_and_the_legacy_format(arch, tmp_path):
    current = _build(arch, tmp_path)
    prompt = "query" if CASES[arch][5] else None
    _compare(current, prompt)
    legacy = _legacy_copy(current, tmp_path / "legacy")
    if CASES[arch][4] is not None:  # the legacy format never saved truncate_dim: as sentence-transformers, full width
        config = json.loads((legacy / "config_sentence_transformers.json").read_text())
        config.pop("truncate_dim")
        (legacy / "config_sentence_transformers.json").write_text(json.dumps(config))
    _compare(legacy, prompt)


def test_what_we_save_both_versions_load_identically(tmp_path):
    current = _build("qwen3", tmp_path)
    ours = SentenceEncoder(current, device="cpu", dtype="float32")
    saved = ours.save(tmp_path / "resaved")
    assert json.loads((saved / "modules.json").read_text())[1]["type"] == "sentence_transformers.models.Pooling"
    _compare(saved, "query")
    assert SentenceEncoder(saved, device="cpu", dtype="float32").dimension == 16  # truncate_dim kept


def test_truncate_dim_option_and_renormalisation(tmp_path):
    folder = _build("bert", tmp_path)
    full = SentenceEncoder(folder, device="cpu", dtype="float32")
    cut = SentenceEncoder(folder, device="cpu", dtype="float32", truncate_dim=8)
    assert cut.dimension == 8 and cut.contract()["dims"] == 8
    np.testing.assert_allclose(
        cut.encode(TEXTS), full.encode(TEXTS)[:, :8], atol=1e-6
    )  # after Normalize, not renormalized
    np.testing.assert_allclose(np.linalg.norm(cut.encode(TEXTS, normalize=True), axis=1), 1.0, atol=1e-6)
    from sbert_plugins import ConfigError

    with pytest.raises(ConfigError, match="truncate_dim=64 exceeds the model's 32 dimensions"):
        SentenceEncoder(folder, device="cpu", truncate_dim=64)


def test_the_models_similarity_fn_name_is_used(tmp_path):
    from sentence_transformers import SentenceTransformer

    from sbert_plugins import semantic_search

    folder = _build("distilbert", tmp_path)  # not normalised: dot and cosine rank differently
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    (folder / "config_sentence_transformers.json").write_text(json.dumps({**config, "similarity_fn_name": "dot"}))
    ours = SentenceEncoder(folder, device="cpu", dtype="float32")
    assert ours.similarity_fn_name == "dot"
    theirs = SentenceTransformer(str(folder), device="cpu")
    vectors = ours.encode(TEXTS)
    expected = theirs.similarity(vectors, vectors).numpy()
    hits = semantic_search(vectors, vectors, top_k=len(TEXTS), similarity=ours.similarity_fn_name)
    for q, row in enumerate(hits):
        np.testing.assert_allclose([h.score for h in row], sorted(expected[q], reverse=True), rtol=1e-5)
    saved = ours.save(tmp_path / "resaved")
    assert json.loads((saved / "config_sentence_transformers.json").read_text())["similarity_fn_name"] == "dot"


def test_static_embedding_models_match_in_both_layouts(tmp_path):
    """model2vec / static-retrieval-mrl style: a token table averaged per text, no transformer."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tok_models

    vocab = {w: i for i, w in enumerate(["[UNK]", *WORDS])}
    tokenizer = Tokenizer(tok_models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    torch.manual_seed(0)
    static = models.StaticEmbedding(tokenizer, embedding_weights=torch.randn(len(vocab), 24))
    model = SentenceTransformer(modules=[static, models.Normalize()], truncate_dim=12, device="cpu")
    current = tmp_path / "static"
    model.save(str(current))
    _compare(current, None)
    ours = SentenceEncoder(current, device="cpu", dtype="float32")
    assert ours.dimension == 12 and ours.contract()["pooling"] == "static"
    long = " ".join(["the man plays guitar"] * 500)  # never truncated: every token counts
    theirs = SentenceTransformer(str(current), device="cpu").encode([long])
    np.testing.assert_allclose(ours.encode([long]), theirs, atol=1e-5)
    legacy = tmp_path / "legacy"  # 3.x kept it in 0_StaticEmbedding/
    shutil.copytree(current, legacy)
    (legacy / "0_StaticEmbedding").mkdir()
    for name in ("tokenizer.json", "model.safetensors"):
        shutil.move(legacy / name, legacy / "0_StaticEmbedding" / name)
    spec = json.loads((legacy / "modules.json").read_text())
    spec[0]["path"], spec[0]["type"] = "0_StaticEmbedding", "sentence_transformers.models.StaticEmbedding"
    (legacy / "modules.json").write_text(json.dumps(spec))
    _compare(legacy, None)
    _compare(ours.save(tmp_path / "resaved"), None)


@pytest.mark.parametrize("arch", ["bert", "xlm-roberta", "qwen3"])
def test_truncation_keeps_the_closing_token_as_sentence_transformers(arch, tmp_path):
    """[CLS] x [SEP], <s> x </s> and x <eos> (Qwen3: lasttoken pools the EOS) all keep their closing token."""
    from sentence_transformers import SentenceTransformer

    folder = _build(arch, tmp_path)
    long = " ".join(["the man plays guitar"] * 30)
    ours = SentenceEncoder(folder, device="cpu", dtype="float32", max_seq_length=9)
    theirs = SentenceTransformer(str(folder), device="cpu")
    theirs.max_seq_length = 9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = ours.encode([long, "red car"]), theirs.encode([long, "red car"])
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() >= 0.9999, cos


def test_chunked_calls_keep_the_prompt_exclusion_of_short_texts(tmp_path):
    folder = _build("mpnet", tmp_path)  # include_prompt=False, mean pooling
    encoder = SentenceEncoder(folder, device="cpu", dtype="float32", long_texts="chunk")
    alone = encoder.encode(["red car"], prompt_name="query")
    with_a_long_neighbour = encoder.encode(["red car", "the cat runs . " * 40], prompt_name="query")
    np.testing.assert_allclose(with_a_long_neighbour[:1], alone, atol=1e-6)
