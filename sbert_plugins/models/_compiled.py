"""``torch.compile`` for inference (the ``compile`` encode option): what is compiled, and when it runs.

A model is compiled once, with dynamic shapes, so one graph serves every batch: for the plain BERT
encoder (``_bert.py``) its layer stack, with the attention mask built before it, eagerly, so the graph
holds the matmul attention and its bias (compiling the whole forward would trace torch's fused kernel
instead, which measured slower); for a model through transformers its forward. Training, batches of one
text (a graph would specialise for size 1, so a second compile) and callers that trace, script or
compile themselves run the eager code.

Measured on an AMD EPYC with AVX512-BF16 (MiniLM, whole encodes alternating in one process): bf16 +4-8 %
sentences/s, float32 level (there the eager linear layers already run through oneDNN). The first
compile on a machine takes ~40 s; inductor keeps what it built on disk (``TORCHINDUCTOR_CACHE_DIR``,
by default ``torchinductor_<user>`` in the temp folder), and a later process pays ~8 s, for tracing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._base.errors import ConfigError

_FIX = "install a C++ compiler (inductor builds C++ kernels on CPU) or use compile=False"


def runs_compiled(training: bool, batch: int) -> bool:
    """Whether a model asked to run compiled does so for a batch of ``batch`` texts."""
    if training or batch < 2:
        return False
    return not (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling())


def compile_inference(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with dynamic shapes; a compile error becomes a ``ConfigError`` naming the option."""
    from torch._dynamo.exc import TorchDynamoException  # imported by torch.compile anyway
    from torch._inductor.exc import CppCompileError

    graph = torch.compile(fn, dynamic=True)

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return graph(*args, **kwargs)
        except (TorchDynamoException, CppCompileError) as exc:
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            raise ConfigError(f"compile=True: torch.compile failed ({type(exc).__name__}: {first}); {_FIX}") from exc

    return call
