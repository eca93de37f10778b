"""Tokenizer folders -> tokenizers: the fast ``tokenizers``-only path for plain BERT WordPiece files, and
transformers' ``AutoTokenizer`` for everything else.

The fast path (``models.FastTokenizer``) skips importing transformers, so it is taken only where its
answers are known to be transformers' own. transformers 5 rebuilds a BERT tokenizer's pipeline from
``tokenizer_config.json`` and BERT's defaults, so ``tokenizer.json`` must hold exactly that: the config's
lower-casing, accent and Chinese-character settings, BERT's text cleaning, ``##`` prefix and 100-character
words, a ``[CLS] A [SEP]`` template and the unknown token the config names; and the special and added
tokens must agree between the files. Tests compare both paths on thousands of texts.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from .._base.errors import ModelLoadError
from ..models import FastTokenizer
from ..models._fast_tokenizer import SPECIAL_NAMES

_BERT_CLASSES = ("BertTokenizer", "BertTokenizerFast")
_BERT_SPECIALS = ("unk", "sep", "pad", "cls", "mask")
_HF_UNLIMITED = int(1e30)  # transformers' model_max_length when the config has none (VERY_LARGE_INTEGER)


def auto_tokenizer(folder: str) -> Any:
    """transformers' tokenizer for a local folder, never running its code."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)


def _token(value: Any) -> str | None:
    """A special token as configs write it: a string, or an AddedToken dict with its content."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _settings_agree(config: dict[str, Any], spec: dict[str, Any]) -> bool:
    normalizer, model = spec.get("normalizer") or {}, spec.get("model") or {}
    if (
        normalizer.get("type") != "BertNormalizer"
        or (spec.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer"
    ):
        return False
    if model.get("type") != "WordPiece" or not config.get("do_basic_tokenize", True) or config.get("never_split"):
        return False
    if normalizer.get("clean_text") is not True or model.get("continuing_subword_prefix") != "##":
        return False  # transformers 5 rebuilds the pipeline from the config and BERT's defaults
    if model.get("max_input_chars_per_word") != 100:
        return False
    wanted = {
        "lowercase": config.get("do_lower_case", True),
        "strip_accents": config.get("strip_accents"),
        "handle_chinese_chars": config.get("tokenize_chinese_chars", True),
    }
    return all(normalizer.get(key) == value for key, value in wanted.items())


_FLAGS = ("content", "lstrip", "rstrip", "normalized", "single_word", "special")


def _added_tokens_agree(config: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Tokens the config adds are the ones tokenizer.json adds: same ids, same content and flags."""
    added = {int(t["id"]): t for t in spec.get("added_tokens") or [] if isinstance(t, dict) and "id" in t}
    declared = config.get("added_tokens_decoder") or {}
    if not isinstance(declared, dict):
        return False
    for key, value in declared.items():
        there = added.get(int(key)) if str(key).isdigit() else None
        if there is None or not isinstance(value, dict) or any(value.get(f) != there.get(f) for f in _FLAGS):
            return False
    return True


def _post_processor_agrees(spec: dict[str, Any], specials: dict[str, str], backend: Any) -> bool:
    """BERT's ``[CLS] text [SEP]`` with the config's tokens, and the unknown token the config names."""
    if (spec.get("model") or {}).get("unk_token") != specials["unk"]:
        return False
    post = spec.get("post_processor") or {}
    cls, sep = specials["cls"], specials["sep"]
    if post.get("type") == "BertProcessing":
        return post.get("cls") == [cls, backend.token_to_id(cls)] and post.get("sep") == [sep, backend.token_to_id(sep)]
    return post.get("type") == "TemplateProcessing" and [_piece(p) for p in post.get("single") or []] == [cls, "A", sep]


def _piece(part: Any) -> Any:
    """The id of one piece of a template (``{"SpecialToken": {"id": "[CLS]"}}`` -> ``"[CLS]"``)."""
    inner = next(iter(part.values()), None) if isinstance(part, dict) else None
    return inner.get("id") if isinstance(inner, dict) else None


def _special_tokens(folder: Path, config: dict[str, Any]) -> dict[str, str] | None:
    """The named special tokens, where the config names BERT's five and special_tokens_map.json agrees."""
    specials = {n: t for n in SPECIAL_NAMES if (t := _token(config.get(f"{n}_token"))) is not None}
    if not set(_BERT_SPECIALS) <= set(specials) or config.get("additional_special_tokens"):
        return None  # transformers would fill in defaults or extra tokens: let it
    mapped = folder / "special_tokens_map.json"
    try:
        extra = json.loads(mapped.read_text(encoding="utf-8")) if mapped.is_file() else {}
    except (OSError, ValueError):
        return None
    names = {f"{n}_token" for n in SPECIAL_NAMES}
    if not isinstance(extra, dict) or any(k not in names or _token(v) is None for k, v in extra.items()):
        return None  # additional_special_tokens and the like: transformers adds them
    if any(_token(v) != specials.get(k.removesuffix("_token")) for k, v in extra.items()):
        return None
    return specials


def fast_bert_tokenizer(folder: Path) -> FastTokenizer | None:
    """The ``tokenizers``-only tokenizer of a plain BERT folder, or None where transformers must decide."""
    spec_path, config_path = folder / "tokenizer.json", folder / "tokenizer_config.json"
    if not (spec_path.is_file() and config_path.is_file()):
        return None
    try:
        text = spec_path.read_text(encoding="utf-8")
        spec, config = json.loads(text), json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # transformers reports the broken file in its own words
    if not (isinstance(spec, dict) and isinstance(config, dict)) or config.get("tokenizer_class") not in _BERT_CLASSES:
        return None
    specials = _special_tokens(folder, config)  # the cheap checks first: parsing the vocabulary is not
    if specials is None or not (_settings_agree(config, spec) and _added_tokens_agree(config, spec)):
        return None
    limit = config.get("model_max_length", _HF_UNLIMITED)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        return None
    from tokenizers import Tokenizer

    try:
        backend = Tokenizer.from_str(text)
    except Exception as exc:  # the Rust parser's own exception type
        raise ModelLoadError(f"{spec_path} is not a tokenizers file: {exc}") from exc
    if any(backend.token_to_id(t) is None for t in specials.values()):
        return None
    if not _post_processor_agrees(spec, specials, backend):
        return None
    full = functools.partial(auto_tokenizer, str(folder))
    return FastTokenizer(backend, special_tokens=specials, model_max_length=limit, full=full)
