"""Modules that follow pooling: Dense projection and L2 normalisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from .._base.errors import ModelLoadError

# sentence-transformers stores the activation as a dotted class path; only these are built (no imports by name).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "torch.nn.modules.activation.Tanh": nn.Tanh,
    "torch.nn.modules.linear.Identity": nn.Identity,
    "torch.nn.modules.activation.ReLU": nn.ReLU,
    "torch.nn.modules.activation.GELU": nn.GELU,
}


class Normalize(nn.Module):
    """L2-normalise the sentence embedding (so dot product == cosine)."""

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        features["sentence_embedding"] = nn.functional.normalize(features["sentence_embedding"], p=2, dim=-1)
        return features

    def save(self, folder: str | Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)


class Dense(nn.Module):
    """Linear projection (+ activation) of the sentence embedding."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "torch.nn.modules.activation.Tanh",
        use_residual: bool = False,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ModelLoadError(f"unsupported Dense activation {activation!r}; supported: {sorted(ACTIVATIONS)}")
        self.in_features, self.out_features, self.bias = in_features, out_features, bias
        self.activation_name = activation
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.activation = ACTIVATIONS[activation]()
        self.use_residual = use_residual
        # a residual across a change of width goes through its own projection (sentence-transformers' layout)
        self.residual = (
            nn.Linear(in_features, out_features, bias=False) if use_residual and in_features != out_features else None
        )

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        x = features["sentence_embedding"]
        out = self.activation(self.linear(x))
        if self.use_residual:
            out = out + (x if self.residual is None else self.residual(x))
        features["sentence_embedding"] = out
        return features

    def save(self, folder: str | Path) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
            "activation_function": self.activation_name,
        }
        if self.use_residual:  # written only when set, as sentence-transformers does, so older versions still load
            config["use_residual"] = True
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / "model.safetensors"))
