"""CPU feature guard for bfloat16.

Some virtual machines advertise AMX in CPUID but trap on AMX instructions
(SIGILL kills the process). oneDNN picks AMX for bf16 matmuls when CPUID says
it can, so before the first bf16 forward we probe once, in a subprocess, and
cap oneDNN at AVX512-BF16 when AMX traps. oneDNN reads the cap when it first
runs, so it must be set before any oneDNN work in this process.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import warnings

_ISA_VAR = "ONEDNN_MAX_CPU_ISA"
_SAFE_ISA = "AVX512_CORE_BF16"
_PROBE = ("import torch; x = torch.randn(64, 64, dtype=torch.bfloat16); "
          "torch.nn.functional.linear(x, x); print('ok')")


@functools.lru_cache(maxsize=1)
def amx_traps() -> bool:
    """True when a bf16 matmul with oneDNN's default ISA kills the process."""
    env = {k: v for k, v in os.environ.items() if k != _ISA_VAR}
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                              timeout=120, text=True)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode != 0 and "ok" not in done.stdout


def prepare_bf16_cpu() -> None:
    """Make bf16 on CPU safe: cap oneDNN's ISA if AMX traps here (warns once)."""
    if os.environ.get(_ISA_VAR) or not amx_traps():
        return
    os.environ[_ISA_VAR] = _SAFE_ISA
    warnings.warn(f"AMX is advertised but traps on this CPU (a virtual machine?); bf16 runs on "
                  f"{_SAFE_ISA} instead, which is slower than float32 here. If this process already ran "
                  f"oneDNN kernels, set {_ISA_VAR}={_SAFE_ISA} before starting Python.",
                  RuntimeWarning, stacklevel=3)
