"""Linear layers that run float32 inference through oneDNN on CPU.

torch multiplies float32 ``nn.Linear`` inputs on CPU with its BLAS (MKL) and uses oneDNN only for
16-bit types. Where MKL does not take its fastest path, oneDNN's float32 kernels are about twice as
fast for a sentence encoder's shapes (measured on an AMD EPYC with AVX512: 170-190 GFLOP/s against
350-430 for (1280 x 384) @ (384 x 1536) and its neighbours). Which one is faster on a machine is
measured, not assumed (``_encoding/precision.linear_kernel``); this module only provides the switch.

``OneDNNLinear`` is an ``nn.Linear``: same parameters, same state dict, same ``isinstance``. Its
forward takes oneDNN only where nothing needs gradients and input and weight are float32 CPU tensors;
anything else (training, bf16, CUDA) is ``nn.Linear``'s own forward, so a swapped model still trains,
saves and moves between devices as before.
"""

from __future__ import annotations

import torch
from torch import nn


def onednn_linear_available() -> bool:
    """Whether this torch build has oneDNN and the fused linear operator this module calls."""
    return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` through oneDNN (float32 CPU tensors, no autograd)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class OneDNNLinear(nn.Linear):
    """``nn.Linear`` whose float32 CPU inference runs through oneDNN."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wants_grad = torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad)
        if not wants_grad and x.dtype == self.weight.dtype == torch.float32 and x.device.type == "cpu":
            return onednn_linear(x, self.weight, self.bias)
        return super().forward(x)


def use_onednn_linear(model: nn.Module, on: bool = True) -> int:
    """Make every plain ``nn.Linear`` in ``model`` a ``OneDNNLinear`` (``on=False``: back); how many changed.

    The class is switched in place, so parameters, hooks, state-dict names and references held by
    other modules stay what they were (a module swap would have to find and rebind every one)."""
    old, new = (nn.Linear, OneDNNLinear) if on else (OneDNNLinear, nn.Linear)
    changed = 0
    for module in model.modules():
        if type(module) is old:
            module.__class__ = new
            changed += 1
    return changed
