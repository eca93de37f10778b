"""Linear layers that run float32 inference through oneDNN on CPU.

torch multiplies float32 ``nn.Linear`` inputs on CPU with its BLAS (MKL) and uses oneDNN only for
16-bit types. Where MKL does not take its fastest path, oneDNN's float32 kernels are about twice as
fast for a sentence encoder's shapes (measured on an AMD EPYC with AVX512: 170-190 GFLOP/s against
350-430 for (1280 x 384) @ (384 x 1536) and its neighbours). Which one is faster on a machine is
measured, not assumed (``_encoding/precision.linear_kernel``); this module only provides the switch.

``OneDNNLinear`` is an ``nn.Linear``: same parameters, same state dict, same ``isinstance``. Its
forward takes oneDNN only where nothing needs gradients and input and weight are float32 CPU tensors;
anything else (training, autocast, bf16, CUDA, tracing or export outside the ``compile`` option's own
traces) is ``nn.Linear``'s own forward, so a swapped model still trains, saves, exports and moves between
devices as before.

Graphs that the ``compile`` option traces (``_compiled.py``, inside ``in_compiled_graphs()``) call oneDNN
too, through the custom operator ``sbert_plugins::onednn_linear``, which inductor keeps as a call: left to
itself it lowers ``aten.linear`` to torch's BLAS, which lost the oneDNN verdict's gain (float32 compiled ran
below eager in one process; +5-11 % over eager with the operator). Graphs traced by anyone else (a user's
``torch.compile``, ``torch.export``, ONNX) still see ``aten.linear``. Code that matches
``type(m) is nn.Linear`` (``torch.ao.quantization.quantize_dynamic``) needs ``use_onednn_linear(model,
on=False)`` first.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator

import torch
from torch import nn

# True only inside in_compiled_graphs(), in that thread: a context variable, which dynamo guards on while
# tracing (a module global would leak across threads; a threading.local attribute it reads as a constant)
_IN_COMPILED_GRAPHS: contextvars.ContextVar[bool] = contextvars.ContextVar("in_compiled_graphs", default=False)


@functools.lru_cache(maxsize=1)
def onednn_linear_available() -> bool:
    """Whether this torch build has oneDNN and the fused linear operator this module calls (asked once)."""
    return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` through oneDNN (float32 CPU tensors, no autograd)."""
    if bias is not None and not bias.is_contiguous():  # the operator ignores the bias's strides
        bias = bias.contiguous()
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


@torch.library.custom_op("sbert_plugins::onednn_linear", mutates_args=())
def _graph_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return onednn_linear(x, weight, bias)


@_graph_linear.register_fake
def _(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return x.new_empty((*x.shape[:-1], weight.shape[0]))


@contextlib.contextmanager
def in_compiled_graphs() -> Iterator[None]:
    """While active, graphs traced through a ``OneDNNLinear`` call oneDNN through the custom operator
    (where this torch build has it: asked here, eagerly, not inside the trace)."""
    token = _IN_COMPILED_GRAPHS.set(onednn_linear_available())
    try:
        yield
    finally:
        _IN_COMPILED_GRAPHS.reset(token)


def _no_autograd_or_autocast(x: torch.Tensor, params: tuple[torch.Tensor | None, ...]) -> bool:
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, *params)):
        return False
    return not torch.is_autocast_enabled("cpu")


def _plain_forward_needed(x: torch.Tensor, params: tuple[torch.Tensor | None, ...]) -> bool:
    """What oneDNN's operator cannot stand in for: autograd (it has no backward), autocast (it would not
    cast), tracing and export (ONNX, TorchScript and torch.export should see ``aten.linear``)."""
    if not _no_autograd_or_autocast(x, params) or torch.jit.is_tracing() or torch.jit.is_scripting():
        return True
    return bool(torch.compiler.is_compiling()) or not onednn_linear_available()


class OneDNNLinear(nn.Linear):
    """``nn.Linear`` whose float32 CPU inference runs through oneDNN."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        float32_cpu = x.dtype == self.weight.dtype == torch.float32 and x.device.type == "cpu"
        ours = float32_cpu and _IN_COMPILED_GRAPHS.get() and torch.compiler.is_compiling()  # the option's graph
        if ours and _no_autograd_or_autocast(x, (self.weight, self.bias)):
            return torch.ops.sbert_plugins.onednn_linear(x, self.weight, self.bias)
        if float32_cpu and not _plain_forward_needed(x, (self.weight, self.bias)):
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
