"""``sbert precision``: what ``dtype="auto"`` picks on this CPU, from the verdict cached per machine."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("precision", help="what dtype=auto picks on this CPU, and the cached measurements")
    p.add_argument("--remeasure", action="store_true", help="forget the cached verdicts and measure again")
    p.set_defaults(func=cmd_precision)


def cmd_precision(args: argparse.Namespace) -> int:
    """What dtype='auto' picks on this CPU, from the cached verdict (measured now if missing)."""
    from .._base import cpu as _cpu

    if args.remeasure:
        removed = _cpu.forget()
        print(f"{'removed' if removed else 'no'} cached verdicts at {_cpu.verdict_path()}")
    from .._encoding.precision import auto_cpu_dtype, float32_gflops, linear_kernel, matmul_gflops

    print(f"CPU: {_cpu.cpu_model()}; native bf16 (AMX / AVX512-BF16): {'yes' if _cpu.has_native_bf16() else 'no'}")
    fp32, kernel = float32_gflops(), "oneDNN" if linear_kernel() == "onednn" else "BLAS"
    other = f"; BLAS {matmul_gflops('float32'):.1f}" if kernel == "oneDNN" else ""
    print(f"float32 matmul: {fp32:.1f} GFLOP/s ({kernel}{other}): float32 linear layers run through {kernel}")
    forced = _cpu.forced_cpu_dtype()
    if forced:
        print(f"${_cpu.DTYPE_ENV}={forced}: auto takes it without measuring")
    elif _cpu.has_native_bf16():
        print(f"AMX traps: {'yes (oneDNN capped)' if _cpu.amx_traps() else 'no'}")
        bf16 = matmul_gflops("bfloat16")
        print(f"bfloat16 matmul: {bf16:.1f} GFLOP/s ({bf16 / max(fp32, 1e-9):.2f}x float32)")
    print(f"dtype='auto' on CPU: {auto_cpu_dtype()}  (cache: {_cpu.verdict_path()})")
    return 0
