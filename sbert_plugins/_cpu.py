"""CPU facts for choosing a precision, read without importing torch.

Some virtual machines advertise AMX in CPUID but trap on AMX instructions
(SIGILL kills the process). oneDNN picks AMX for bf16 matmuls when CPUID says it
can, so before the first bf16 forward we probe once, in a subprocess, and cap
oneDNN at AVX512-BF16 when AMX traps. oneDNN reads the cap when it first runs,
so it must be set before any oneDNN work in this process (the CLI does it before
torch loads).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import warnings

from ._errors import PrecisionWarning

_ISA_VAR = "ONEDNN_MAX_CPU_ISA"
_SAFE_ISA = "AVX512_CORE_BF16"
_PROBE = "import torch; x = torch.randn(64, 64, dtype=torch.bfloat16); torch.nn.functional.linear(x, x); print('ok')"


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where that file does not exist)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def has_native_bf16() -> bool:
    """AMX-BF16 or AVX512-BF16 in the flags: bf16 matmuls can beat float32 here (to be measured)."""
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


@functools.lru_cache(maxsize=1)
def amx_traps() -> bool:
    """True when a bf16 matmul with oneDNN's default ISA kills the process."""
    if "amx_bf16" not in cpu_flags() and cpu_flags():
        return False  # no AMX advertised: nothing can trap
    env = {k: v for k, v in os.environ.items() if k != _ISA_VAR}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, capture_output=True, timeout=120, text=True, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode != 0 and "ok" not in done.stdout


def prepare_bf16_cpu() -> None:
    """Make bf16 on CPU safe: cap oneDNN's ISA if AMX traps here (warns once)."""
    if os.environ.get(_ISA_VAR) or not amx_traps():
        return
    os.environ[_ISA_VAR] = _SAFE_ISA
    warnings.warn(
        f"AMX is advertised but traps on this CPU (a virtual machine?); bf16 runs on {_SAFE_ISA} instead, "
        f"which may be slower than float32 here. If this process already ran oneDNN kernels, set "
        f"{_ISA_VAR}={_SAFE_ISA} before starting Python.",
        PrecisionWarning,
        stacklevel=3,
    )
