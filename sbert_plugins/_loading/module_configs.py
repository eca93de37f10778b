"""The module folders after the transformer, in both sentence-transformers formats.

Pooling: the legacy keys (``word_embedding_dimension`` and ``pooling_mode_*`` booleans, concatenated
in sentence-transformers' fixed order) or the current ones (``embedding_dimension``, ``pooling_mode``
as a name or a list, in that order), with ``include_prompt`` in both. Dense: ``in_features``,
``out_features``, ``bias``, ``activation_function``, and the current ``use_residual`` (a
``residual.weight`` projection when the width changes); a Dense over token embeddings
(``module_input_name`` other than ``sentence_embedding``) is refused, since nothing here pools after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .._base.errors import ModelLoadError
from .._base.files import read_json
from ..models import (
    IGNORED_WEIGHTS,
    ST_POOLING_KEYS,
    ST_POOLING_NAMES,
    BertEncoder,
    Dense,
    StaticEmbedding,
    supports_bert,
)
from .checks import BOUNDS

_SENTENCE = "sentence_embedding"


def _object(path: Path) -> dict[str, Any]:
    config = read_json(path)
    if not isinstance(config, dict):
        raise ModelLoadError(f"{path} must hold a JSON object")
    return config


def read_pooling(folder: Path) -> tuple[int, list[str], bool]:
    """``(dimension, modes, include_prompt)`` from a pooling config in either format."""
    path = folder / "config.json"
    config = _object(path)
    dim = config.get("embedding_dimension", config.get("word_embedding_dimension"))
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= BOUNDS["hidden_size"]:
        raise ModelLoadError(f"{path} lacks a positive integer 'word_embedding_dimension' (got {dim!r})")
    current = config.get("pooling_mode")
    if current is not None:
        names = [current] if isinstance(current, str) else current
        modes = [ST_POOLING_NAMES.get(m, m) for m in names] if isinstance(names, list) else None
    else:
        modes = config.get("sbert_plugins_modes") or [m for k, m in ST_POOLING_KEYS if config.get(k)]
    if not modes or not all(isinstance(m, str) for m in modes):
        raise ModelLoadError(f"{path} enables no pooling mode")
    include_prompt = config.get("include_prompt", True)
    if not isinstance(include_prompt, bool):
        raise ModelLoadError(f"{path}: include_prompt={include_prompt!r} is not true or false")
    return dim, [str(m) for m in modes], include_prompt


def weights_error(folder: Path, exc: BaseException) -> ModelLoadError:
    text = f"{type(exc).__name__}: {exc}"
    if "pickle" in text.lower() or "weights_only" in text or "Unpickl" in text:
        return ModelLoadError(
            f"{folder} has weights in a pickle file that holds more than tensors ({text[:300]}); such files can "
            "run code and are refused. Convert the weights to model.safetensors (safetensors holds only tensors)"
        )
    return ModelLoadError(f"cannot load the transformer in {folder}: {text[:500]}")


def load_state(folder: Path) -> dict[str, torch.Tensor]:
    """Weights of a module folder: model.safetensors, else pytorch_model.bin through weights_only unpickling."""
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        try:
            return load_file(str(folder / "model.safetensors"))
        except Exception as exc:
            raise ModelLoadError(f"{folder / 'model.safetensors'} is not a valid safetensors file: {exc}") from exc
    if (folder / "pytorch_model.bin").is_file():
        try:
            state: dict[str, torch.Tensor] = torch.load(
                folder / "pytorch_model.bin", map_location="cpu", weights_only=True
            )
        except Exception as exc:
            raise weights_error(folder, exc) from exc
        return state
    raise ModelLoadError(f"{folder} has no weights (model.safetensors)")


def load_bert(folder: Path, config: dict[str, Any]) -> BertEncoder | None:
    """A plain BERT with the folder's safetensors weights, without transformers' modeling code; None when
    the weights do not map one to one (prefixed or sharded, other heads, missing tensors) or the config is
    not plain: transformers then loads it."""
    if not (folder / "model.safetensors").is_file() or not supports_bert(config):
        return None
    weights = {k: v for k, v in load_state(folder).items() if k not in IGNORED_WEIGHTS}
    # built on the CPU (random init ~0.1 s for MiniLM): on the meta device, init imports torch._dynamo (1.3 s)
    model = BertEncoder(config)
    expected = model.state_dict()
    if set(weights) != set(expected) or any(weights[k].shape != expected[k].shape for k in expected):
        return None
    model.load_state_dict({k: v.float() for k, v in weights.items()}, assign=True)
    return model.eval()


def load_dense(folder: Path) -> Dense:
    config = _object(folder / "config.json")
    for key in ("module_input_name", "module_output_name"):
        if config.get(key, _SENTENCE) != _SENTENCE:
            raise ModelLoadError(
                f"{folder / 'config.json'}: {key}={config[key]!r}; only a Dense over the sentence embedding is "
                "supported (a token-level Dense is not)"
            )
    try:
        dense = Dense(
            int(config["in_features"]),
            int(config["out_features"]),
            bool(config.get("bias", True)),
            str(config.get("activation_function", "torch.nn.modules.activation.Tanh")),
            use_residual=bool(config.get("use_residual", False)),
        )
        dense.load_state_dict(load_state(folder))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"{folder}: unusable Dense module ({type(exc).__name__}: {exc})") from exc
    return dense


def load_static(folder: Path) -> StaticEmbedding:
    """A StaticEmbedding folder: ``tokenizer.json`` and ``embedding.weight`` (or model2vec's ``embeddings``,
    with its optional ``mapping`` of token ids to rows and per-token ``weights``, folded as sentence-transformers
    folds them)."""
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelLoadError(f"{folder} is a StaticEmbedding folder without tokenizer.json")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:
        raise ModelLoadError(f"{path} is not a tokenizers file: {exc}") from exc
    state = load_state(folder)
    weight = state.get("embedding.weight")
    if weight is None and "embeddings" in state:
        try:  # model2vec: rows per token id through `mapping`, scaled by per-token `weights`
            weight = state["embeddings"]
            if "mapping" in state:
                weight = weight[state["mapping"].long()]
            if "weights" in state:
                weight = weight * state["weights"].unsqueeze(1)
        except (IndexError, RuntimeError) as exc:
            raise ModelLoadError(f"{folder}: model2vec tensors do not fit together ({exc})") from exc
    if weight is None or weight.dim() != 2:
        raise ModelLoadError(f"{folder}: no 2-D 'embedding.weight' (or model2vec 'embeddings') tensor")
    if tokenizer.get_vocab_size() > weight.shape[0]:
        raise ModelLoadError(
            f"{folder}: the tokenizer has {tokenizer.get_vocab_size()} tokens but the table {weight.shape[0]} rows"
        )
    return StaticEmbedding(tokenizer, weight)
