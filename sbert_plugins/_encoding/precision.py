"""Device and dtype choice: ``"auto"`` means the fastest precision this hardware runs natively.

* CUDA: float16 (tensor cores; pooling and normalisation stay float32).
* CPU: bfloat16 only where the CPU has native bf16 (AMX / AVX512-BF16) *and* a bf16
  matmul beats float32 by 1.3x; float32 otherwise. The timings are measured once per
  machine and cached (``_cpu``: ``sbert precision`` shows them); ``$SBERT_PLUGINS_CPU_DTYPE``
  decides without measuring.
* float32 linear layers on CPU run through oneDNN where that is measured faster than torch's BLAS
  (``linear_kernel``: 2x on an AMD EPYC, where MKL does not take its fastest path), cached per machine.
* An explicit 16-bit dtype on a CPU where it is measured much slower than float32
  (measured on an AVX2-only AMD EPYC: 10 GFLOP/s bf16 vs 113 fp32) warns with the numbers.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable

import torch

from .._base.cpu import (
    cached,
    cpu_model,
    forced_cpu_dtype,
    forced_linear_kernel,
    has_native_bf16,
    prepare_bf16_cpu,
    remember,
)
from .._base.errors import ConfigError, PrecisionWarning
from ..models import onednn_linear, onednn_linear_available

TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_AUTO_GAIN = 1.3  # bf16 must be this much faster to be chosen automatically
_SLOW = 2.0  # an explicit dtype this much slower than float32 gets a PrecisionWarning
_ONEDNN_GAIN = 1.15  # oneDNN's float32 linear must be this much faster than the BLAS to be used


def resolve_device(device: str) -> torch.device:
    """A torch device for a checked option value; 'cuda' without CUDA is a clear error, not a crash later."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    chosen = torch.device(device)
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device={device!r}, but torch {torch.__version__} sees no CUDA device (no GPU, no driver, or a "
            "CPU-only build); use device='cpu' or 'auto'"
        )
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise ConfigError(f"device={device!r}, but only {torch.cuda.device_count()} CUDA device(s) exist")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device={device!r}, but MPS is not available here; use 'cpu' or 'auto'")
    return chosen


@functools.lru_cache(maxsize=4)
def cpu_matmul_gflops(dtype_name: str, kernel: str = "blas") -> float:
    """A (128 x 384) @ (384 x 768) matmul rate on this CPU, best of many calls (measured once per process).

    Small on purpose: it runs before a model is used, and emulated bf16 can be ~100x slower.
    ``kernel="onednn"`` (float32): through oneDNN (``models.onednn_linear``); 0.0 where that operator
    fails here or disagrees with torch's own result."""
    dtype = TORCH_DTYPES[dtype_name]
    if dtype != torch.float32:
        prepare_bf16_cpu()
    a = torch.randn(128, 384).to(dtype)
    b = torch.randn(768, 384).to(dtype)
    flop = 2 * 128 * 384 * 768 / 1e9
    if kernel != "onednn":
        return flop / _best_seconds(lambda: torch.nn.functional.linear(a, b))
    with torch.inference_mode():
        try:
            if not torch.allclose(onednn_linear(a, b, None), torch.nn.functional.linear(a, b), rtol=1e-4, atol=1e-3):
                return 0.0
        except RuntimeError:  # a build whose oneDNN cannot run the operator on this CPU
            return 0.0
        return flop / _best_seconds(lambda: onednn_linear(a, b, None))


def _best_seconds(run: Callable[[], object]) -> float:
    """The fastest of up to 30 timed calls within ~0.1 s (at least 3), after 2 warm-up calls (kernel
    selection, the thread pool). The verdict is kept for the machine's lifetime, and another process
    busy on the same cores slows some calls by 10x or more (seen here): the best of many is what the
    kernel can do."""
    for _ in range(2):
        run()
    best, spent, calls = float("inf"), 0.0, 0
    while calls < 3 or (calls < 30 and spent < 0.1):
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        best, spent, calls = min(best, took), spent + took, calls + 1
    return max(best, 1e-9)


def matmul_gflops(dtype_name: str, kernel: str = "blas") -> float:
    """``cpu_matmul_gflops`` as measured once on this machine (cached across processes)."""
    key = f"gflops_{dtype_name}" + ("" if kernel == "blas" else f"_{kernel}")
    known = cached(key)
    lowest = 0.0 if kernel == "onednn" else 1e-9  # 0.0 records an operator that failed here; a rate is > 0
    if isinstance(known, (int, float)) and not isinstance(known, bool) and known >= lowest:
        return float(known)
    rate = cpu_matmul_gflops(dtype_name, kernel)
    remember(key, round(rate, 3))
    return rate


def linear_kernel() -> str:
    """The float32 linear kernel CPU inference uses here: ``"onednn"`` where measured faster, else ``"blas"``
    (``$SBERT_PLUGINS_CPU_LINEAR`` decides without comparing, where this torch has oneDNN)."""
    if not onednn_linear_available():
        return "blas"
    forced = forced_linear_kernel()
    if forced == "onednn" and matmul_gflops("float32", "onednn") == 0.0:
        raise ConfigError(
            f"SBERT_PLUGINS_CPU_LINEAR=onednn, but oneDNN's float32 linear operator fails or disagrees with torch "
            f"on this CPU ({cpu_model()}); use blas or unset it"
        )
    if forced is not None:
        return forced
    faster = matmul_gflops("float32", "onednn") >= _ONEDNN_GAIN * matmul_gflops("float32")
    return "onednn" if faster else "blas"


def float32_gflops() -> float:
    """The float32 matmul rate of the kernel ``linear_kernel`` picks: what bf16 is weighed against."""
    return matmul_gflops("float32", linear_kernel())


def auto_cpu_dtype() -> str:
    """What ``dtype="auto"`` means on this CPU."""
    forced = forced_cpu_dtype()
    if forced is not None:
        return forced
    if not has_native_bf16():
        return "float32"  # no native bf16: emulated bf16 is always slower
    fast = matmul_gflops("bfloat16") >= _AUTO_GAIN * float32_gflops()
    return "bfloat16" if fast else "float32"


def _warn_if_slow(dtype: str) -> None:
    low, full = max(matmul_gflops(dtype), 1e-9), float32_gflops()
    if full > _SLOW * low:
        native = "" if has_native_bf16() else " (the CPU has neither AMX nor AVX512-BF16)"
        warnings.warn(
            f"dtype={dtype!r} runs {full / low:.0f}x slower than float32 on this CPU ({cpu_model()}{native}): "
            f"measured {low:.1f} vs {full:.1f} GFLOP/s for a matmul. Use dtype='float32' or 'auto'.",
            PrecisionWarning,
            stacklevel=4,
        )


def resolve_dtype(dtype: str, device: torch.device) -> str:
    """The concrete dtype name for a checked option value on ``device``."""
    if dtype == "auto":
        if device.type == "cuda":
            return "float16"
        dtype = auto_cpu_dtype() if device.type == "cpu" else "float32"
    elif device.type == "cpu" and dtype != "float32":
        _warn_if_slow(dtype)
    if device.type == "cpu" and dtype != "float32":
        prepare_bf16_cpu()  # a cached verdict skips the timing, and with it the cap it used to set
    return dtype
