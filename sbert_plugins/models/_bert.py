"""A BERT encoder in plain torch, with transformers' parameter names, for fast start.

Importing transformers' BERT modeling code costs ~1.6 s on a 2-vCPU machine (it pulls in generation,
masking utilities and torch._dynamo), more than loading MiniLM's weights. The encoder forward pass of a
``BertModel`` is small, so for the plain configuration (absolute positions, GELU, no decoder) it is written
out here; anything else, and any checkpoint whose weights do not map one to one, goes through transformers
(the loading layer decides: ``_loading/module_configs.load_bert``). Outputs equal transformers' within
float rounding (tests compare them on random and real checkpoints).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ._attention import KEY_BLOCK, attention, key_mask, key_width
from ._compiled import compile_inference, packaged_inference, runs_compiled, weights_state

_REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")
_PLAIN = {"position_embedding_type": ("absolute", None), "hidden_act": ("gelu",), "is_decoder": (False, None)}
IGNORED_WEIGHTS = ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias")  # unused by the encoder


def supports_bert(config: dict[str, Any]) -> bool:
    """Whether a config.json is a plain BERT encoder this module reproduces exactly."""
    if config.get("model_type") != "bert" or not all(isinstance(config.get(k), int) for k in _REQUIRED):
        return False
    if config["hidden_size"] % config["num_attention_heads"]:
        return False
    if config.get("add_cross_attention") or config.get("torch_dtype") not in (None, "float32"):
        return False  # half-precision checkpoints: transformers' loading rules decide their dtype
    return all(config.get(key, allowed[0]) in allowed for key, allowed in _PLAIN.items())


class _Embeddings(nn.Module):
    def __init__(self, c: SimpleNamespace) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        types = token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(types) + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(x))


class _SelfAttention(nn.Module):
    def __init__(self, c: SimpleNamespace) -> None:
        super().__init__()
        self.heads, self.dropout = c.num_attention_heads, c.attention_probs_dropout_prob
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        out = attention(q, k, v, mask, self.dropout if self.training else 0.0)
        return out.transpose(1, 2).reshape(b, n, d)


class _Residual(nn.Module):
    """dense -> dropout -> LayerNorm(x + residual): BERT's ``*Output`` blocks."""

    def __init__(self, d_in: int, c: SimpleNamespace) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, c: SimpleNamespace) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Residual(c.hidden_size, c)


class _Intermediate(nn.Module):
    def __init__(self, c: SimpleNamespace) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, c: SimpleNamespace) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Residual(c.intermediate_size, c)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention.output(self.attention.self(x, mask), x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


class _Layers(nn.Module):
    def __init__(self, c: SimpleNamespace) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            x = layer(x, mask)
        return x


class BertEncoder(nn.Module):
    """``BertModel`` without its pooler: ``forward(...)`` returns an object with ``last_hidden_state``."""

    compiled = False  # compile_layers() turns it on
    _packaged = False  # whether the layers may come from a package compiled ahead of time (CPU)
    _weights: tuple[Any, ...] | None = None  # weights_state() when the package was loaded
    _compiled_layers: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        defaults = {"max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}
        defaults |= {"hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
        self.raw_config = dict(config)
        self.config = SimpleNamespace(**{**defaults, **config})
        self.embeddings = _Embeddings(self.config)
        self.encoder = _Layers(self.config)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> SimpleNamespace:
        x = self.embeddings(input_ids, token_type_ids)
        keep = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        graph = self.compiled and runs_compiled(self.training, x.shape[0]) and x.shape[1] > 1
        # keys that are padding are never attended to
        mask = key_mask(keep, x, self.config.num_attention_heads, self.training, spare_key=graph)
        x = self._layers(x, mask)(x, mask) if graph else self.encoder(x, mask)
        return SimpleNamespace(last_hidden_state=x)

    def compile_layers(self, on: bool = True, package: bool = False) -> None:
        """Run inference through the compiled layer stack, or not (``_compiled.py``).

        The attention mask is built before the compiled layers, eagerly, with a padded key always
        (``key_mask``'s ``spare_key``), so every batch of two texts or more in one dtype meets the same
        graph. With ``package`` (CPU), the layers are compiled ahead of time into a package named by
        their weights, which a later process loads without compiling; once the weights change in any
        way, or the model leaves the CPU, ``torch.compile`` compiles them in the process instead."""
        self.compiled, self._compiled_layers, self._packaged, self._weights = on, None, package, None

    def _layers(self, x: torch.Tensor, mask: torch.Tensor) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        if self._packaged and (x.device.type != "cpu" or self._weights not in (None, weights_state(self.encoder))):
            self.compile_layers(True, package=False)  # the package holds CPU code and the weights it was built from
        if self._packaged and mask.dtype == torch.bool:
            return self.encoder  # scores over the budget (never within the encode loop's token bound): eager
        if self._compiled_layers is None:
            runner = packaged_inference(self.encoder, (x, mask), self._dynamic()) if self._packaged else None
            self._packaged, self._weights = runner is not None, weights_state(self.encoder) if runner else None
            self._compiled_layers = runner or compile_inference(self.encoder.forward)
        return self._compiled_layers

    def _dynamic(self) -> tuple[dict[int, Any], dict[int, Any]]:
        """The dynamic dimensions of the layers' inputs: batch, tokens (hidden states) and keys (mask)."""
        from torch.export import Dim

        positions = int(self.config.max_position_embeddings)
        batch = Dim("batch", min=2, max=1 << 20)
        tokens = Dim("tokens", min=2, max=positions)
        keys = Dim("keys", min=KEY_BLOCK, max=key_width(positions + 1))
        return {0: batch, 1: tokens}, {0: batch, 3: keys}

    def __getstate__(self) -> dict[str, Any]:
        # a compiled function belongs to this object's layers: a copy or an unpickled one compiles its own
        return {**super().__getstate__(), "_compiled_layers": None, "_weights": None}

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def save_pretrained(self, folder: str) -> None:
        """config.json and model.safetensors, as transformers writes them for a ``BertModel``."""
        from safetensors.torch import save_file

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps({**self.raw_config, "architectures": ["BertModel"]}, indent=2))
        tensors = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
