"""Checks on a model folder before anything is built from it, so a hostile or broken folder is refused
with a ModelLoadError naming the file and the value, instead of hanging a load or failing every encode.

* Files: every entry must be a regular file or folder (a FIFO or a device would block the first read)
  and a link must stay inside the folder (or, in a Hugging Face cache snapshot, inside the repo's
  ``blobs/``), so a folder cannot make the loader read files elsewhere.
* Configs: sizes in ``config.json`` must be positive ints within generous bounds, and agree with the
  tensors in ``model.safetensors`` (read from its header, without loading it): the layer count, the
  embedding table, the hidden size. ``max_seq_length`` must fit the position embeddings.
* After loading: the tokenizer's ids must fit the embedding table.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._base.errors import ModelLoadError
from .._base.files import read_json

_CODE_CONFIGS = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json")
MAX_ENTRIES = 10_000  # files and folders looked at in one model folder
BOUNDS = {  # config key -> largest sane value (the largest public models stay far below these)
    "num_hidden_layers": 512,
    "hidden_size": 65_536,
    "num_attention_heads": 1_024,
    "intermediate_size": 1_048_576,
    "vocab_size": 10_000_000,
    "max_position_embeddings": 1_048_576,
}
# families whose position ids start after the padding index (so max_seq_length <= positions - pad - 1)
_PADDING_OFFSET_TYPES = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "mpnet", "longformer", "ibert"}
_LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h|block|blocks)\.(\d+)\.")
_EMBEDDING_KEYS = ("word_embeddings.weight", "embed_tokens.weight", "wte.weight", "tok_embeddings.weight")


def refuse_remote_code(folder: Path) -> None:
    """A folder whose configs map classes to its own Python files is refused, never run."""
    for name in _CODE_CONFIGS:
        path = folder / name
        config = read_json(path) if path.is_file() else {}
        auto_map = config.get("auto_map") if isinstance(config, dict) else None
        if auto_map:
            files = sorted(str(p.name) for p in folder.glob("*.py"))
            raise ModelLoadError(
                f"{path} maps model classes to code shipped in the folder (auto_map={auto_map!r}; Python files: "
                f"{files}). sbert-plugins never runs a model folder's code; use a model whose architecture "
                "transformers knows (e.g. BERT, MPNet, RoBERTa), with its weights as model.safetensors"
            )


def _allowed_roots(folder: Path) -> list[Path]:
    roots = [folder]
    if folder.parent.name == "snapshots":  # huggingface_hub cache: snapshots/<sha>/x -> ../../blobs/<hash>
        roots.append(folder.parent.parent / "blobs")
    return roots


def check_files(folder: Path) -> None:
    """Every entry is a regular file or folder, and links stay inside the model folder."""
    roots = [r.resolve() for r in _allowed_roots(folder)]
    for count, path in enumerate(folder.rglob("*")):
        if count >= MAX_ENTRIES:
            raise ModelLoadError(f"{folder} holds over {MAX_ENTRIES:,} files and folders; this is not a model folder")
        target = path.resolve() if path.is_symlink() else path
        if path.is_symlink() and not any(root == target or root in target.parents for root in roots):
            raise ModelLoadError(f"{path} links to {target}, outside the model folder; copy the file in instead")
        try:
            mode = os.stat(target).st_mode
        except OSError as exc:
            raise ModelLoadError(
                f"{path} cannot be read ({exc.strerror}); re-export or re-download the model"
            ) from None
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise ModelLoadError(f"{path} is not a regular file (a FIFO, socket or device); remove it")


def _int_value(config: Mapping[str, Any], key: str, path: Path) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= BOUNDS[key]:
        raise ModelLoadError(f"{path}: {key}={value!r} is not an int between 1 and {BOUNDS[key]:,}")
    return value


def weight_shapes(folder: Path) -> dict[str, list[int]] | None:
    """Tensor shapes from model.safetensors' header (no tensor is read), or None without that file."""
    path = folder / "model.safetensors"
    if not path.is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as weights:
            return {key: list(weights.get_slice(key).get_shape()) for key in weights.keys()}  # noqa: SIM118
    except Exception as exc:  # a truncated or forged header
        raise ModelLoadError(f"{path} is not a valid safetensors file: {exc}") from exc


def check_transformer_config(folder: Path, config: Mapping[str, Any]) -> None:
    """config.json's sizes are sane and agree with the weights' tensors."""
    path = folder / "config.json"
    sizes = {key: _int_value(config, key, path) for key in BOUNDS}
    shapes = weight_shapes(folder)
    if shapes is None:
        return
    layers = {int(m.group(1)) for key in shapes for m in [_LAYER.search(key)] if m}
    if sizes["num_hidden_layers"] is not None and layers and len(layers) != sizes["num_hidden_layers"]:
        raise ModelLoadError(
            f"{path}: num_hidden_layers={sizes['num_hidden_layers']}, but model.safetensors holds {len(layers)} "
            "layers; the config does not belong to these weights"
        )
    table = next((shape for key, shape in shapes.items() if key.endswith(_EMBEDDING_KEYS)), None)
    if table is not None and len(table) == 2:
        hidden = sizes["hidden_size"]
        if hidden is not None and table[1] != hidden:
            raise ModelLoadError(f"{path}: hidden_size={hidden}, but the embedding table is {table}")
        if sizes["vocab_size"] is not None and table[0] != sizes["vocab_size"]:
            raise ModelLoadError(f"{path}: vocab_size={sizes['vocab_size']}, but the embedding table is {table}")


def position_limit(config: Any) -> int | None:
    """The longest input the position embeddings allow (None when the model has no such table)."""
    positions = getattr(config, "max_position_embeddings", None)
    if not isinstance(positions, int) or positions < 1:
        return None
    if getattr(config, "model_type", "") in _PADDING_OFFSET_TYPES:
        positions -= int(getattr(config, "pad_token_id", 1) or 1) + 1
    return positions


def check_max_seq_length(value: Any, limit: int | None, where: str) -> int | None:
    """A ``max_seq_length`` from a folder's config: an int from 2 up to the position limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ModelLoadError(f"{where}: max_seq_length={value!r} is not an int >= 2")
    if limit is not None and value > limit:
        raise ModelLoadError(f"{where}: max_seq_length={value} exceeds the model's {limit} position embeddings")
    return value


def check_tokenizer_fits(folder: Path, tokenizer: Any, model: Any) -> None:
    """Every id the tokenizer can produce has a row in the model's embedding table."""
    rows = model.get_input_embeddings().num_embeddings
    vocab = tokenizer.get_vocab()
    largest = max(vocab.values(), default=-1)
    if largest >= rows or len(tokenizer) > rows:
        raise ModelLoadError(
            f"{folder}: the tokenizer has {len(tokenizer)} tokens (ids up to {largest}), but the model's embedding "
            f"table has {rows} rows; the tokenizer files do not belong to these weights (is tokenizer.json "
            "missing or from another model?)"
        )
    specials = {
        name: getattr(tokenizer, f"{name}_token_id", None)
        for name in ("cls", "sep", "pad", "bos", "eos", "unk")
        if getattr(tokenizer, f"{name}_token", None) is not None
    }
    missing = sorted(name for name, token_id in specials.items() if token_id is None or token_id >= rows)
    if missing:
        raise ModelLoadError(f"{folder}: the tokenizer's special token(s) {missing} are not in its vocabulary")


def check_st_transformer_config(config: Mapping[str, Any], path: Path) -> None:
    """sentence_bert_config.json of the current format: plain text to token embeddings is what loads here."""
    task = config.get("transformer_task", "feature-extraction")
    if task != "feature-extraction":
        raise ModelLoadError(f"{path}: transformer_task={task!r}; only 'feature-extraction' models embed sentences")
    if config.get("module_output_name", "token_embeddings") != "token_embeddings":
        raise ModelLoadError(f"{path}: module_output_name={config['module_output_name']!r} is not supported")
    modalities = config.get("modality_config") or {"text": {}}
    if not isinstance(modalities, Mapping) or "message" in modalities or "text" not in modalities:
        raise ModelLoadError(
            f"{path}: modality_config={dict(modalities) if isinstance(modalities, Mapping) else modalities!r}; "
            "models that turn texts into chat messages (a 'message' modality) are not supported: sentence-"
            "transformers would render each text through the chat template, which sbert-plugins does not"
        )
