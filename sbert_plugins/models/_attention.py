"""Self-attention for the plain-torch encoder (``_bert.py``): torch's fused kernel, or two matmuls.

torch's fused attention on CPU (flash attention for CPU) works head by head in blocks. For bf16 its
per-head cost dominates on a sentence encoder's inputs: MiniLM's 12 heads of 32 dims on batches of STSb
sentences took 27 % of the whole bf16 encode in the profile, while their FLOPs are under 1 %. Two
batched matmuls around one softmax do the same work faster. Measured on an AMD EPYC with AVX512-BF16,
whole encodes alternating in one process, bf16: +11-16 % sentences/s on STSb sentences, +3-12 % on
texts of 60-170 tokens, level at 250; float32, where the fused kernel uses MKL's small matmuls and
loses less: +1-7 % (level with every library held to AVX2 kernels). float16, autocast, training
(dropout), GPUs, tracing and export keep the fused kernel, and so does any call whose scores would
exceed ``MATMUL_MAX_SCORES`` (the fused kernel never holds them all; the encode loop's token bound
keeps its batches far below).

The key axis is padded to a multiple of ``KEY_BLOCK``: torch's softmax runs rows of such lengths about
twice as fast as rows of 20 or 13. Padded keys get the additive bias ``finfo.min`` (as transformers'
own eager attention masks), so their weight is exactly 0; scores are held in the input dtype, as in
transformers' eager path, which moves bf16 vectors by ~1e-5 in cosine against the fused kernel.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

MATMUL_MAX_SCORES = 1 << 24  # batch x heads x queries x keys held at once (32 MB in bf16), at most
KEY_BLOCK = 16  # the key axis is padded to a multiple of this (softmax over whole vector widths)
_MATMUL_DTYPES = (torch.bfloat16, torch.float32)  # measured; float16 was not (CPUs rarely run it)


def _matmul_attention_pays(x: torch.Tensor, training: bool) -> bool:
    """Whether ``matmul_attention`` is the faster (measured) and safe choice for hidden states ``x``
    (batch x tokens x dims), its scores' size apart."""
    # a traced or exported graph would bake this batch's padding into every later shape (make_fx is
    # not detected: its graph holds for the shapes it was traced with only)
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return False
    # under autocast the scores come out of the linear layers in another dtype than x's
    return not (training or x.device.type != "cpu" or x.dtype not in _MATMUL_DTYPES or torch.is_autocast_enabled("cpu"))


def key_mask(keep: torch.Tensor, x: torch.Tensor, heads: int, training: bool, spare_key: bool = False) -> torch.Tensor:
    """What every layer's attention over ``heads`` heads gets for ``keep`` (batch x keys, nonzero =
    attend to that key).

    A boolean mask (batch x 1 x 1 x keys) for torch's fused kernel, or for ``matmul_attention`` an
    additive bias in ``x``'s dtype whose key axis is padded to a multiple of ``KEY_BLOCK`` (0 where a
    key is attended to, ``finfo.min`` where it is padding). Built once per forward pass, not per layer.

    A row with no key to attend to gets 0 from torch's fused kernel; here it attends to the padded
    keys alone (at least one is added for it), whose values are zeros, so it gets 0 too. ``spare_key``
    adds one padded key always: a compiled graph then never meets a batch whose keys need no padding
    (which would compile a second graph for it).
    """
    keys = keep.shape[1]
    if not _matmul_attention_pays(x, training):
        return keep[:, None, None, :].bool()
    empty = keep.eq(0).all(-1)
    width = key_width(keys + int(spare_key or bool(empty.any())))
    if x.shape[0] * heads * x.shape[1] * width > MATMUL_MAX_SCORES:
        return keep[:, None, None, :].bool()
    ignored = F.pad(keep, (0, width - keys)) == 0
    ignored[:, keys:] &= ~empty[:, None]
    bias = torch.zeros(ignored.shape, dtype=x.dtype, device=x.device)
    return bias.masked_fill_(ignored, torch.finfo(x.dtype).min)[:, None, None, :]


def key_width(keys: int) -> int:
    """``keys`` rounded up to a multiple of ``KEY_BLOCK``: the key axis of ``key_mask``'s bias."""
    return -(-keys // KEY_BLOCK) * KEY_BLOCK


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, dropout: float) -> torch.Tensor:
    """Scaled dot-product attention of (batch x heads x tokens x head dims) ``q``, ``k``, ``v``.

    ``mask`` is what ``key_mask`` made: a boolean mask selects torch's fused kernel, a bias the matmuls.
    ``key_mask`` makes a bias only for an encoder in eval mode; a layer of it put in training mode
    alone still gets its dropout, from the fused kernel over the padded keys."""
    if mask.dtype != torch.bool:
        if not dropout:
            return matmul_attention(q, k, v, mask)
        k, v = _padded(k, v, mask.shape[-1])
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)


def _padded(k: torch.Tensor, v: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``k`` and ``v`` with zero keys appended up to ``width``."""
    padding = width - k.shape[-2]
    return (F.pad(k, (0, 0, 0, padding)), F.pad(v, (0, 0, 0, padding))) if padding else (k, v)


def matmul_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``softmax(q kᵀ / √d + bias) v`` as two batched matmuls; ``bias``'s key axis may be longer than
    ``k``'s (``key_mask`` pads it), and ``k`` and ``v`` are padded with zeros to match."""
    k, v = _padded(k, v, bias.shape[-1])
    scores = torch.matmul(q, k.transpose(-1, -2)).mul_(q.shape[-1] ** -0.5).add_(bias)
    return torch.matmul(scores.softmax(-1), v)
